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
(``emix.engine``); a family's statistics carry ``nk``, the summed
responsibilities per component, from which the driver takes the weights.

Two optional hooks change what EM maximises (``emix.engine.hooks``);
a family without them is fitted by maximum likelihood, as before::

    weights_step(nk, previous_weights)   -> (K,) weights   the weights' M-step
                                            (default: nk / N, floored at 10 eps)
    n_weight_parameters(K)               -> int     free parameters of the weights
                                            (default: K - 1; fixed weights: 0)
    log_prior(weights, components)       -> float   the objective's parameter term,
                                            added to every pass's total (default: 0)

With ``log_prior`` the pass total, the history, the stopping rule and
SQUAREM's acceptance are those of the objective the family's M-step really
increases: ``log p(theta)`` for a MAP fit (mclust's conjugate priors), or
``E_q[log p(theta)] - E_q[log q(theta)] = -KL(q || p)`` for a variational
family, whose pass total (the sum of the log-normalisers of the
responsibilities) plus this term is the evidence lower bound.

The estimators (``emix.estimators.core``) ask a family a few more things,
its *estimator interface*; :class:`FamilyBase` gives every one a default::

    handles_missing, for_missing(X)      NaN is "missing at random" (and the exact variant)
    support                              the values a column may take (one of SUPPORTS)
    needs_spread                         components need distinct rows (optional; default False)
    exact_m_step                         the M-step maximises exactly (EM never lowers L)
    validate(X, columns), configure(X)   values in the support; settings learnt from the data
    array_names(), to_arrays(params)     the fitted attributes (``name + "_"``) and model files
    from_arrays(arrays, K, D)            parameters from user starts and files, checked
    derived_arrays(params)               attributes computed from the parameters, not stored
    init_names()                         the arrays a user must give to start EM from them
    spec()                               a JSON-able description (model files, ``Mixture(family=...)``)

Optional methods, which a family writes only when it has something to say:

    latent_expectations(X, params)       -> {name: (n, K)} expectations of latent variables other
                                            than the component, given it (Student-t: the scale
                                            weights ``u_nk``); :mod:`emix.teach` shows them
    probe_rows(params)                   -> (K, D) one row per component (the Gaussian: its
                                            means), where the duplicate-components diagnostic
                                            compares the densities before it samples

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

#: The values ``support`` may take, from the widest to the narrowest: any real number,
#: numbers >= 0, non-negative integers (counts, category codes), and 0 or 1. The
#: estimators declare it to scikit-learn as input tags (``positive_only``, ``categorical``).
SUPPORTS = ("real", "nonnegative", "nonnegative_integers", "binary")


@dataclasses.dataclass(frozen=True)
class Stats:
    """Base of sufficient statistics: a frozen value whose array fields add.

    Subclasses list their fields; fields named in ``_fixed`` (e.g. the anchor)
    are not summed but must be identical in both operands.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        Summed responsibilities of each component (times the sample weights).

    Examples
    --------
    >>> import numpy as np
    >>> from emix.families.base import Stats
    >>> first, second = Stats(nk=np.array([1.0, 2.0])), Stats(nk=np.array([0.5, 0.5]))
    >>> (first + second).nk                  # the statistics of two chunks add
    array([1.5, 2.5])
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
    """What EM needs from a component family (see the module docstring), as a type.

    Examples
    --------
    >>> from emix.families import BernoulliFamily
    >>> from emix.families.base import Family
    >>> isinstance(BernoulliFamily(), Family)
    True
    """

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
    complete example (a geometric family, saved and loaded).

    Examples
    --------
    Exponential components in a dozen lines:

    >>> import dataclasses
    >>> import numpy as np
    >>> import emix
    >>> from emix.families.base import FamilyBase, Stats
    >>> @dataclasses.dataclass(frozen=True)
    ... class RateParams:
    ...     rates: np.ndarray                      # (K, D)
    >>> @dataclasses.dataclass(frozen=True)
    ... class RateStats(Stats):
    ...     sx: np.ndarray                         # (K, D): sum_n r_nk x_nd
    >>> class RateFamily(FamilyBase):
    ...     name = "rate"
    ...     params_type = RateParams
    ...     def log_prob(self, X, params):         # (n, K)
    ...         return np.log(params.rates).sum(axis=1) - X @ params.rates.T
    ...     def accumulate(self, X, resp, anchor):
    ...         return RateStats(nk=resp.sum(axis=0), sx=resp.T @ X)
    ...     def m_step(self, stats, previous):
    ...         return RateParams(rates=stats.nk[:, None] / stats.sx)
    ...     def n_parameters(self, params):
    ...         return params.rates.size
    ...     def sample(self, rng, params, counts):
    ...         rows = np.repeat(np.arange(len(counts)), counts)
    ...         return rng.exponential(1.0 / params.rates[rows])
    >>> family = RateFamily()
    >>> family.array_names(), family.spec()
    (('rates',), {'family': 'rate'})
    >>> X = np.random.default_rng(0).exponential(2.0, (1000, 1))
    >>> emix.Mixture(1, family=family).fit(X).rates_.round(2)     # 1 / the mean
    array([[0.49]])
    """

    name: ClassVar[str]
    #: frozen dataclass of the component arrays; its field names are the array names
    params_type: ClassVar[type]
    #: whether NaN means "missing at random" (then ``accumulate``/``log_prob`` skip such cells)
    handles_missing: ClassVar[bool] = False
    #: whether the M-step maximises exactly (pseudo-counts or jitter make it inexact)
    exact_m_step: ClassVar[bool] = True
    #: the values a column may take (one of :data:`SUPPORTS`); ``validate`` enforces it
    support: ClassVar[str] = "real"

    def anchor(self, params: Any) -> Any:
        """The reference point statistics are centred on (default: none, plain sums).

        Parameters
        ----------
        params : params_type
            The current component parameters.

        Returns
        -------
        anchor : object or None
            Passed to ``accumulate`` for every chunk of one pass.
        """
        return None

    def anchor_from_centres(self, centres: np.ndarray) -> Any:
        """The anchor of the initial statistics pass, from the initialiser's centres.

        Parameters
        ----------
        centres : ndarray of shape (K, D)
            Where the initialiser put the components (k-means centres...).

        Returns
        -------
        anchor : object or None
        """
        return None

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Check that the values of ``X`` lie in the support (default: any real).

        Parameters
        ----------
        X : ndarray of shape (n, D)
            Rows of training or new data.
        columns : sequence of int, optional
            The caller's column numbers of ``X``'s columns, for messages (a part
            of a product family sees some columns only).

        Raises
        ------
        InvalidInputError
            A value outside the support, naming its row and column.
        """

    def configure(self, X: np.ndarray) -> FamilyBase:
        """The family with settings learnt from the training data (default: none).

        Parameters
        ----------
        X : ndarray of shape (n, D)
            The training data (or a probe standing for them).

        Returns
        -------
        family : FamilyBase
            ``self``, or a configured copy (e.g. categorical levels counted).
        """
        return self

    def array_names(self) -> tuple[str, ...]:
        """The names of the component arrays: the fields of :attr:`params_type`.

        The fitted attributes are these names with a trailing underscore, and
        model files store these arrays.

        Returns
        -------
        tuple of str
        """
        return tuple(f.name for f in dataclasses.fields(self.params_type))

    def array_shapes(self, n_components: int, n_features: int) -> dict[str, tuple[int, ...]]:
        """Shape of each array (default: (K, D) for all).

        Parameters
        ----------
        n_components : int
            K.
        n_features : int
            D.

        Returns
        -------
        dict of str to tuple of int
        """
        return {name: (n_components, n_features) for name in self.array_names()}

    def to_arrays(self, params: Any) -> dict[str, np.ndarray]:
        """The component arrays of ``params`` by name (the fitted attributes, without ``_``).

        Parameters
        ----------
        params : params_type

        Returns
        -------
        dict of str to ndarray
        """
        return {name: getattr(params, name) for name in self.array_names()}

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> Any:
        """Parameters from user-given or stored arrays: present, numeric, finite, of the right shape,
        then :meth:`check_params`.

        Parameters
        ----------
        arrays : dict of str to array-like
            The arrays by name (``params_init``, a model file).
        n_components : int
            K.
        n_features : int
            D.

        Returns
        -------
        params : params_type

        Raises
        ------
        InvalidParameterError
            A missing, malformed or invalid array, named.
        """
        values = {}
        for name, shape in self.array_shapes(n_components, n_features).items():
            if arrays.get(name) is None:
                raise InvalidParameterError(f"{self.name}: array {name!r} is missing")
            values[name] = check_init_array(arrays[name], f"{self.name}: {name}", shape)
        params = self.params_type(**values)
        self.check_params(params)
        return params

    def check_params(self, params: Any) -> None:
        """Raise :class:`~emix.exceptions.InvalidParameterError` if ``params`` is outside the
        parameter space (default: every value is valid).

        Parameters
        ----------
        params : params_type
        """

    def derived_arrays(self, params: Any) -> dict[str, np.ndarray]:
        """Fitted attributes computed from the parameters and not stored (default: none).

        Parameters
        ----------
        params : params_type

        Returns
        -------
        dict of str to ndarray
            By attribute name without the trailing underscore (the Gaussian
            family's ``precisions``, for instance).
        """
        return {}

    def init_names(self) -> set[str]:
        """The arrays a user must give for EM to start from them (default: all of them).

        Returns
        -------
        set of str
        """
        return set(self.array_names())

    def spec(self) -> dict:
        """``{"family": name}`` and the constructor options (default: the instance's attributes).

        :func:`~emix.families.family_from_spec` rebuilds the family from it (when
        the family is registered in :data:`~emix.families.FAMILIES`).

        Returns
        -------
        dict
            Plain JSON values.
        """
        return {"family": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}
