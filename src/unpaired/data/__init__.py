"""Loaders for real formats and procedural generators; ``root`` finds the data directory."""
