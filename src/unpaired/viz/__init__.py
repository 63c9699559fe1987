"""Figures of the library (image grids, skeletons, flow colours, curves), drawn with
matplotlib's object API: nothing here selects a backend or touches ``pyplot``."""
