"""Somana's core: cost models, geometry generators, quotes and orders (no Panel imports here)."""

__version__ = "0.1.0"
