"""Influence Coach: a dialogue engine that coaches leaders on influence, and its channels."""

__version__ = "0.1.0"
