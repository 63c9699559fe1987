"""Plots of the library (matplotlib's object API: no pyplot, no backend to set)."""
