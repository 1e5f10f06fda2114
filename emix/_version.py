"""The version of emix (one place: the package face and model files read it)."""

__version__ = "0.1.0"
