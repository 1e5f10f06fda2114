"""Fixed equal mixing weights (mclust's ``equalPro``) for any family.

:class:`EqualWeights` wraps a family and changes one thing: the weights'
M-step (the engine's ``weights_step`` hook, :mod:`emix.engine.hooks`) keeps
every weight at ``1 / K``, and the weights have no free parameter
(``n_weight_parameters(K) == 0``), so BIC and AIC count ``K - 1`` fewer
parameters. The EM of the components is the family's own: with equal weights
the responsibilities are ``p(x | k) / sum_j p(x | j)`` and the component
M-steps are unchanged, so EM still never lowers the likelihood.

Everything else is the wrapped family's: attribute look-ups go to it, and
the families it hands out (``configure``, ``for_missing``, ``init_family``)
come back wrapped, so the equal weights hold through missing values and the
first M-step as well. The estimators wrap their family when constructed with
``equal_weights=True``; the wrapper's ``spec()`` is its family's (equal
weights are the estimator's setting, saved with its constructor arguments).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InvalidParameterError


class EqualWeights:
    """A family whose mixing weights are fixed at ``1 / K``.

    Parameters
    ----------
    family : family
        Any family (see :mod:`emix.families.base`).
    """

    def __init__(self, family: Any) -> None:
        self.__dict__["family"] = family

    def __getattr__(self, name: str) -> Any:
        try:
            inner = self.__dict__["family"]
        except KeyError:  # during copying or unpickling, before __init__
            raise AttributeError(name) from None
        value = getattr(inner, name)
        if name == "for_missing":
            return _WrapResult(value)
        if name == "init_family":
            return self if value is inner else EqualWeights(value)
        return value

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"EqualWeights({self.family!r})"

    # -- the engine's weights hook ------------------------------------------------
    def weights_step(self, nk: np.ndarray, previous_weights: np.ndarray | None) -> np.ndarray:
        """``1 / K`` for every component, whatever the responsibilities.

        Parameters
        ----------
        nk : ndarray of shape (K,)
        previous_weights : ndarray of shape (K,) or None

        Returns
        -------
        ndarray of shape (K,), float64
        """
        k = len(nk)
        return np.full(k, 1.0 / k)

    def n_weight_parameters(self, n_components: int) -> int:
        """The weights are fixed: no free parameter."""
        return 0

    # -- families handed out stay wrapped ---------------------------------------
    def configure(self, X: np.ndarray) -> EqualWeights:
        """The wrapped family configured on ``X`` (n, D), still with equal weights."""
        return EqualWeights(self.family.configure(X))


class _WrapResult:
    """``EqualWeights(fn(X))``: a family-returning method of the wrapped family, wrapped."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, X: np.ndarray) -> EqualWeights:
        return EqualWeights(self.fn(X))


def with_equal_weights(family: Any, equal: bool) -> Any:
    """``EqualWeights(family)`` when ``equal`` (and it is not wrapped already), else ``family``.

    Raises
    ------
    InvalidParameterError
        When ``equal`` is not a bool (the estimators' ``equal_weights``).
    """
    if not isinstance(equal, (bool, np.bool_)):
        raise InvalidParameterError(f"equal_weights must be a bool, got {equal!r}")
    if not equal or isinstance(family, EqualWeights):
        return family
    inside = getattr(family, "map_inner", None)  # a noise component: its K weights are the equal ones
    if inside is not None:
        return inside(lambda inner: with_equal_weights(inner, equal))
    return EqualWeights(family)
