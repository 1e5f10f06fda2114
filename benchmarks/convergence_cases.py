"""The stand-ins of ``bench_convergence.py``: n x 10 data for K=8 fits (issue 15).

Every case is drawn from a fixed seed, so the same ``n`` gives the same rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

#: Case names, in the order the benchmark reports them.
CASES = ("blobs-std1", "blobs-std3", "blobs-std5", "gmm-overlap", "gmm-elongated", "randn")


def _random_gmm(n: int, seed: int, spread: float, shape: float) -> np.ndarray:
    """A random 8-component Gaussian mixture in 10-D with overlapping components.

    Means ~ N(0, spread^2 I); covariances ``A A^T / 10 + 0.1 I`` with ``A`` of
    standard normal entries scaled by ``shape`` along a random half of the axes;
    weights ~ Dirichlet(2).
    """
    rng = np.random.default_rng(seed)
    k, d = 8, 10
    means = rng.normal(0.0, spread, size=(k, d))
    weights = rng.dirichlet(np.full(k, 2.0))
    chols = []
    for _ in range(k):
        a = rng.standard_normal((d, d))
        a[:, rng.permutation(d)[: d // 2]] *= shape
        chols.append(np.linalg.cholesky(a @ a.T / d + 0.1 * np.eye(d)))
    z = rng.choice(k, size=n, p=weights)
    x = rng.standard_normal((n, d))
    out = np.empty((n, d))
    for j in range(k):
        rows = z == j
        out[rows] = means[j] + x[rows] @ chols[j].T
    return out


def make_case(name: str, n: int) -> np.ndarray:
    """The rows of case ``name``, shape (n, 10), float64."""
    if name.startswith("blobs-std"):
        std = float(name.removeprefix("blobs-std"))
        return make_blobs(n, 10, centers=8, cluster_std=std, random_state=0)[0]
    if name == "gmm-overlap":
        return _random_gmm(n, seed=1, spread=1.5, shape=1.0)
    if name == "gmm-elongated":
        return _random_gmm(n, seed=2, spread=2.0, shape=3.0)
    if name == "randn":
        return np.random.default_rng(0).standard_normal((n, 10))
    raise ValueError(f"unknown case {name!r}; one of {CASES}")
