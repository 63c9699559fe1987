"""Task networks: generators and critics. Models compute; the engine trains."""
