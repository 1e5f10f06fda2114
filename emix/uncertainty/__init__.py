"""Uncertainty of a fitted mixture: the bootstrap (:func:`bootstrap`) and its result (:class:`BootstrapResult`)."""

from .bootstrap import KINDS, bootstrap
from .result import BootstrapResult

__all__ = ["KINDS", "BootstrapResult", "bootstrap"]
