"""Procedural generators: the embedded data that lets ``unpaired demo`` run with no download."""
