"""Ancestral sampling: the latent-variable view of a mixture, one draw at a time.

A mixture is the model ``z_n ~ Categorical(π)``, then ``x_n ~ p(x | z_n, θ)``.
:func:`ancestral_sample` draws exactly so, for any family: first every
``z_n`` from the weights, in order, then each ``x_n`` from its component
(through the family's own ``sample``). Forgetting ``z`` leaves draws from
the mixture ``p(x | θ) = Σ_k π_k p(x | k, θ)``; the E-step runs this
backwards, asking which ``z`` produced each ``x``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._validation import check_random_state, check_scalar
from .bound import resolve_model

__all__ = ["AncestralSample", "ancestral_sample"]


@dataclasses.dataclass(frozen=True)
class AncestralSample:
    """Draws of ``(z, x)`` in the order they were made.

    Attributes
    ----------
    weights : ndarray of shape (K,)
        ``π``, which the ``z`` were drawn from.
    z : ndarray of int of shape (n_samples,)
        The component of each draw.
    X : ndarray of shape (n_samples, D)
        ``x_n``, drawn from component ``z_n``.
    family_name : str

    Examples
    --------
    >>> import emix
    >>> from emix.teach import ancestral_sample
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_lecture_example())
    >>> s = ancestral_sample(gm, 10, random_state=0)
    >>> s.family_name, s.weights.round(3)
    ('gaussian', array([0.5, 0.5]))
    >>> s.z, s.counts
    (array([1, 0, 0, 0, 1, 1, 1, 1, 1, 1]), array([3, 7]))
    >>> s.with_X(2 * s.X).X.shape
    (10, 2)
    """

    weights: np.ndarray
    z: np.ndarray
    X: np.ndarray
    family_name: str

    @property
    def counts(self) -> np.ndarray:
        """How many draws each component made, shape (K,)."""
        return np.bincount(self.z, minlength=self.weights.size)

    def with_X(self, X: np.ndarray) -> AncestralSample:
        """The same draws with ``X`` replaced (e.g. back in the data's units).

        Parameters
        ----------
        X : array-like of shape (n_samples, D)

        Returns
        -------
        AncestralSample
        """
        return dataclasses.replace(self, X=np.asarray(X, dtype=np.float64))


def ancestral_sample(model: Any, n_samples: int = 200, *, random_state: Any = None) -> AncestralSample:
    """Draw ``z_n ~ Categorical(π)``, then ``x_n ~ p(x | z_n, θ)``, for each ``n`` up to ``n_samples``.

    Parameters
    ----------
    model : estimator, or (family, params) pair
        A fitted emix estimator of any family, one whose weights and arrays
        were set by hand, or a family with its parameters (the same
        forms as for :func:`emix.teach.bound`).
    n_samples : int, default=200
    random_state : int, Generator or None

    Returns
    -------
    AncestralSample
        ``z`` in the order drawn (not grouped), and the ``X`` each drew.

    Examples
    --------
    >>> import emix
    >>> from emix.teach import ancestral_sample
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> s = ancestral_sample(gm, 5, random_state=0)
    >>> s.z.shape, s.X.shape
    ((5,), (5, 2))
    """
    check_scalar(n_samples, "n_samples", (int, np.integer), min_val=1)
    family, params = resolve_model(model)
    rng = check_random_state(random_state)
    weights = np.asarray(params.weights, dtype=np.float64)
    z = rng.choice(weights.size, size=int(n_samples), p=weights / weights.sum())  # step 1: z ~ π
    counts = np.bincount(z, minlength=weights.size)
    grouped = np.asarray(family.sample(rng, params.components, counts), dtype=np.float64)  # step 2
    X = np.empty_like(grouped)
    X[np.argsort(z, kind="stable")] = grouped  # the family draws by component; put each x_n by its z_n
    return AncestralSample(weights=weights, z=z.astype(np.int64), X=X, family_name=str(family.name))
