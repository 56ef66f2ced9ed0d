"""Backprop Lens web app: the HTTP API over the engine, and the page."""

__version__ = "0.1.0"
