"""The benchmark's cases: sizes (n x D, K), the synthetic data and the common starting points."""

from __future__ import annotations

import numpy as np

from emix.datasets import load_faithful, load_iris

COV_TYPES = ("full", "tied", "diag", "spherical")
FULL_CASES = ((100_000, 2, 3), (200_000, 16, 8), (1_000_000, 8, 16), (100_000, 64, 16))
QUICK_CASES = ((20_000, 2, 3), (20_000, 16, 8))
LARGE_N = 1_000_000  # cases with at least this many rows take ``--iters-large`` iterations


def chosen_cases(quick: bool, indices: str | None):
    """The per-iteration cases: the quick or full list, or ``--cases`` indices of the full list."""
    cases = QUICK_CASES if quick else FULL_CASES
    if indices:
        cases = tuple(FULL_CASES[int(i)] for i in indices.split(","))
    return cases


def case_name(n: int, d: int, k: int) -> str:
    return f"{n // 1000}k x {d}, K={k}"


def make_data(n: int, d: int, k: int, dtype, seed: int = 0):
    """K well-separated Gaussian blobs with random covariances; reproducible."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, size=(k, d))
    labels = rng.integers(0, k, size=n)
    X = np.empty((n, d))
    for j in range(k):
        idx = np.flatnonzero(labels == j)
        a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
        X[idx] = centres[j] + rng.standard_normal((idx.size, d)) @ a.T
    return X.astype(dtype), centres


def start_params(X, centres, k: int, cov: str, seed: int = 1):
    """Same initial parameters for both libraries: perturbed centres, unit precisions."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    means = centres + rng.normal(0.0, 0.5, size=centres.shape)
    prec = {
        "full": np.tile(np.eye(d), (k, 1, 1)),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[cov]
    return {"weights_init": np.full(k, 1.0 / k), "means_init": means, "precisions_init": prec}


#: the per-iteration data sets whose time to the optimum the full run measures by default (100k
#: x 2, K=3 and 200k x 16, K=8). On 1M x 8, K=16 scikit-learn's reference fit (``tol=1e-12``)
#: had not ended after 20 minutes on one core; ``--cases 2,3`` asks for the two largest anyway.
OPTIMUM_CASES = "0,1"


def optimum_cases(quick: bool, indices: str | None = None):
    """The time-to-optimum cases as ``(name, X, K, cov)``, each data set made when it is reached.

    Old Faithful (K=3, tied and full), iris (K=3, tied and full; issue 15); without
    ``--quick`` also data sets of the per-iteration benchmark (full covariances): those of
    ``--cases``, or :data:`OPTIMUM_CASES`.
    """
    faithful = np.asarray(load_faithful(), dtype=np.float64)
    yield "Old Faithful", faithful, 3, "tied"
    yield "Old Faithful", faithful, 3, "full"
    iris = np.asarray(load_iris(), dtype=np.float64)
    yield "iris", iris, 3, "tied"
    yield "iris", iris, 3, "full"
    if not quick:
        for n, d, k in chosen_cases(False, indices or OPTIMUM_CASES):
            X, _ = make_data(n, d, k, np.float64)
            yield case_name(n, d, k), X, k, "full"


def overhead_case(quick: bool):
    """The (n, D, K) of the fit-overhead measure."""
    return (200_000 if not quick else 50_000, 16, 8)
