"""The component-family protocol, the statistics value type, and the estimator interface.

A *family* describes the component densities of a mixture. EM needs five
things from it, nothing else::

    log_prob(X, params)                  -> (n, K) log p(x_n | component k)
    anchor(params), anchor_from_centres  -> reference for centring statistics
    accumulate(X, resp, anchor)          -> Stats   sufficient statistics of a chunk
    m_step(stats, previous)              -> params  weighted maximum likelihood
    n_parameters(params)                 -> int     free parameters of the components
    sample(rng, params, counts)          -> X       draws, grouped by component

Mixing weights are common to every family and handled by the EM driver
(:mod:`emix.engine`); a family's statistics carry ``nk``, the summed
responsibilities per component, from which the driver takes the weights.

The estimators (:mod:`emix.estimators.core`) ask a family a few more things,
its *estimator interface*; :class:`FamilyBase` gives every one a default::

    handles_missing, for_missing(X)      NaN is "missing at random" (and the exact variant)
    exact_m_step                         the M-step maximises exactly (EM never lowers L)
    validate(X, columns), configure(X)   values in the support; settings learnt from the data
    array_names(), to_arrays(params)     the fitted attributes (``name + "_"``) and model files
    from_arrays(arrays, K, D)            parameters from user starts and files, checked
    derived_arrays(params)               attributes computed from the parameters, not stored
    init_names()                         the arrays a user must give to start EM from them
    spec()                               a JSON-able description (model files, ``Mixture(family=...)``)

``anchor`` is a family-chosen reference (for the Gaussian, the current means)
around which statistics are centred so that large offsets cost no digits. It is
fixed during one pass over the data, so statistics of chunks simply add.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from .._validation import check_init_array
from ..exceptions import InvalidParameterError


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

    def scaled(self, factor: float) -> Stats:
        """The statistics times ``factor``: every summed field multiplied, the ``_fixed`` ones kept.

        Statistics are sums over rows, so ``stats.scaled(c)`` are the statistics
        of the same rows with their weights multiplied by ``c``; online EM
        (:mod:`emix.engine.online`) blends ``running.scaled(1 - g) +
        batch.scaled(g)``. Fields that are ``None`` stay ``None``; fields that
        are statistics themselves (or tuples of them) are scaled in turn.

        Parameters
        ----------
        factor : float
            A finite number (not checked: online EM passes positive ones).

        Returns
        -------
        Stats
            Of the same type, with arrays of the same shapes and dtypes.
        """
        values = {}
        for f in dataclasses.fields(self):
            values[f.name] = _scale(getattr(self, f.name), factor, f.name in self._fixed)
        return type(self)(**values)


def _scale(value: Any, factor: float, fixed: bool) -> Any:
    """One field of :meth:`Stats.scaled`."""
    if fixed or value is None:
        return value
    if isinstance(value, Stats):
        return value.scaled(factor)
    if isinstance(value, tuple):
        return tuple(_scale(v, factor, False) for v in value)
    if isinstance(value, np.ndarray):
        return value * np.asarray(factor, dtype=value.dtype if value.dtype.kind == "f" else np.float64)
    return value * factor


def recentre_stats(family: Any, stats: Stats, like: Stats) -> Stats:
    """``stats`` expressed about the reference (anchor) of ``like``, so that the two may be added.

    Statistics of one pass share one anchor and simply add. Statistics of
    different passes (online EM blends a batch's with the running ones) may
    be centred on different anchors; a family whose statistics carry one
    writes the optional ``recentre_stats(stats, like)`` (the Gaussian: the
    exact shift of the centred sums, Chan, Golub and LeVeque's pairwise
    update). Without it the ``_fixed`` fields of both must be equal.

    Parameters
    ----------
    family : Family
    stats, like : Stats
        Of the same type.

    Returns
    -------
    Stats
        The statistics of the same rows as ``stats``, with ``like``'s fixed fields.

    Raises
    ------
    InvalidParameterError
        When the family has no ``recentre_stats`` and a fixed field differs.
    """
    hook = getattr(family, "recentre_stats", None)
    if hook is not None:
        return hook(stats, like)
    for name in stats._fixed:
        a, b = getattr(stats, name), getattr(like, name)
        if not (a is b or np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object))):
            raise InvalidParameterError(
                f"{getattr(family, 'name', type(family).__name__)}: statistics with different "
                f"{name!r} cannot be added, and the family cannot re-centre them (no recentre_stats)"
            )
    return stats


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


class FamilyBase:
    """Defaults for the estimator interface, so that a new family writes only its own part.

    A subclass sets ``name`` and ``params_type`` (a frozen dataclass whose
    fields are the component arrays) and writes EM's five methods:
    ``log_prob``, ``accumulate``, ``m_step``, ``n_parameters`` and ``sample``.
    Everything else has a default here, which a family overrides where it
    differs (a support to ``validate``, array shapes other than (K, D),
    options in ``spec``, missing values...). See ``docs/design.md`` for a
    complete example.
    """

    name: ClassVar[str]
    #: frozen dataclass of the component arrays; its field names are the array names
    params_type: ClassVar[type]
    #: whether NaN means "missing at random" (then ``accumulate``/``log_prob`` skip such cells)
    handles_missing: ClassVar[bool] = False
    #: whether the M-step maximises exactly (pseudo-counts or jitter make it inexact)
    exact_m_step: ClassVar[bool] = True

    def anchor(self, params: Any) -> Any:
        """No reference point: the statistics are plain sums."""
        return None

    def anchor_from_centres(self, centres: np.ndarray) -> Any:
        return None

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Check that the values of ``X`` (n, D) lie in the support (default: any real)."""

    def configure(self, X: np.ndarray) -> FamilyBase:
        """The family with settings learnt from the training data (default: none)."""
        return self

    def array_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.params_type))

    def array_shapes(self, n_components: int, n_features: int) -> dict[str, tuple[int, ...]]:
        """Shape of each array (default: (K, D) for all)."""
        return {name: (n_components, n_features) for name in self.array_names()}

    def to_arrays(self, params: Any) -> dict[str, np.ndarray]:
        return {name: getattr(params, name) for name in self.array_names()}

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> Any:
        """Parameters from user-given or stored arrays: present, numeric, finite, of the right shape,
        then :meth:`check_params`."""
        values = {}
        for name, shape in self.array_shapes(n_components, n_features).items():
            if arrays.get(name) is None:
                raise InvalidParameterError(f"{self.name}: array {name!r} is missing")
            values[name] = check_init_array(arrays[name], f"{self.name}: {name}", shape)
        params = self.params_type(**values)
        self.check_params(params)
        return params

    def check_params(self, params: Any) -> None:
        """Raise :class:`InvalidParameterError` if ``params`` is outside the parameter space."""

    def derived_arrays(self, params: Any) -> dict[str, np.ndarray]:
        return {}

    def init_names(self) -> set[str]:
        return set(self.array_names())

    def spec(self) -> dict:
        """``{"family": name}`` and the constructor options (default: the instance's attributes)."""
        return {"family": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}
