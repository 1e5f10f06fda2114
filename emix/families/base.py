"""The component-family protocol and the statistics value type.

A *family* describes the component densities of a mixture. EM needs five
things from it, nothing else::

    log_prob(X, params)                  -> (n, K) log p(x_n | component k)
    anchor(params), anchor_from_centres  -> reference for centring statistics
    accumulate(X, resp, anchor)          -> Stats   sufficient statistics of a chunk
    m_step(stats, previous)              -> params  weighted maximum likelihood
    n_parameters(params)                 -> int     free parameters of the components
    sample(rng, params, counts)          -> X       draws, grouped by component

Mixing weights are common to every family and handled by the EM driver
(:mod:`emix.em`); a family's statistics carry ``nk``, the summed
responsibilities per component, from which the driver takes the weights.

``anchor`` is a family-chosen reference (for the Gaussian, the current means)
around which statistics are centred so that large offsets cost no digits. It is
fixed during one pass over the data, so statistics of chunks simply add.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Stats:
    """Base of sufficient statistics: a frozen value whose array fields add.

    Subclasses list their fields; fields named in ``_fixed`` (e.g. the anchor)
    are not summed but must be identical in both operands.
    """

    nk: np.ndarray  # (K,) summed responsibilities (times sample weights)

    _fixed: ClassVar[tuple[str, ...]] = ()

    def __add__(self, other: Stats) -> Stats:
        if type(other) is not type(self):
            return NotImplemented
        values = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name in self._fixed:
                values[f.name] = a
            elif a is None:
                values[f.name] = b
            elif b is None:
                values[f.name] = a
            else:
                values[f.name] = a + b
        return type(self)(**values)


@runtime_checkable
class Family(Protocol):
    """What EM needs from a component family (see the module docstring)."""

    name: str

    def log_prob(self, X: np.ndarray, params: Any) -> np.ndarray: ...

    def anchor(self, params: Any) -> Any: ...

    def anchor_from_centres(self, centres: np.ndarray) -> Any: ...

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: Any) -> Stats: ...

    def m_step(self, stats: Stats, previous: Any | None) -> Any: ...

    def n_parameters(self, params: Any) -> int: ...

    def sample(self, rng: np.random.Generator, params: Any, counts: np.ndarray) -> np.ndarray: ...
