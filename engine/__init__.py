"""Backprop Lens engine: pure NumPy networks, losses, datasets and recorded runs."""

from engine.options import options

__all__ = ["options"]
