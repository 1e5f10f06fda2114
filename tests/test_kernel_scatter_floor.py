"""The full kernel's moments leave out rows below ``scatter_floor`` (emix._kernels.numba_blocks).

Where components are well separated, most of a row's responsibilities are far below any
digit of the statistics (1e-109 at 16 features in the benchmark's blobs), and the full
kernel sums each component's first and second moments over the rows it keeps: those at or
above ``2**-130`` in float64 (``2**-100`` in float32), side by side in a compacted block.
These tests hold both of its paths (the loops and BLAS) to the statistics computed directly
over every row, and put the floor where the docstring says it is.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from emix import _kernels

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _factor(rng, d):
    """A random precision factor whose covariance's scales lie within about 0.5 and 1.5."""
    a = 0.3 * rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    return np.triu(np.linalg.inv(np.linalg.cholesky(a @ a.T)).T)  # upper, as emix holds it


def _separated(rng, n, d, k, dtype, weighted):
    """Blobs 12 apart on every axis: each row's other responsibilities underflow the floor."""
    means = rng.normal(size=(k, d)) * 12.0
    means[2:] *= 3.0  # so that no other blob is nearer the rows between blobs 0 and 1
    X = means[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))
    X[: n // 50] = means[0] * 0.5 + means[1] * 0.5  # rows between two blobs: both kept
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    U = np.stack([_factor(rng, d) for _ in range(k)])
    U[1] = U[0]
    const = np.log(rng.dirichlet(np.ones(k) * 5)) + np.log(np.diagonal(U, axis1=1, axis2=2)).sum(1)
    const[1] = const[0]  # so that the rows half way between their means belong to both
    centre = means + rng.normal(scale=0.2, size=(k, d))
    return X.astype(dtype), w, means, U, const, centre


def _direct(X, w, means, U, const, centre):
    """Every row's statistics in float64 NumPy, nothing left out."""
    X = X.astype(np.float64)
    y = np.einsum("nkd,kde->nke", X[:, None, :] - means[None], U)
    lj = const[None] - 0.5 * (y**2).sum(-1)
    ll_rows = logsumexp(lj, axis=1)
    wr = w if w.size else np.ones(X.shape[0])
    r = np.exp(lj - ll_rows[:, None]) * wr[:, None]
    e = X[:, None, :] - centre[None]  # (n, k, d)
    s2 = np.einsum("nk,nka,nkb->kab", r, e, e)
    return float(wr @ ll_rows), r.sum(0), np.einsum("nk,nkd->kd", r, e), s2, r


def _kernel(fn, X, w, means, U, const, centre):
    k, d = means.shape
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    args = (X, w, means.astype(X.dtype), U.astype(X.dtype), const, centre)
    ll = fn(*args, nk, s1, s2, True)
    return ll, nk, s1, s2


@pytest.mark.parametrize("path", ["loops", "blas"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_compacted_moments_equal_every_row_sums(path, dtype, weighted):
    from emix._kernels import numba_full as full

    d = {"loops": 16, "blas": full.BLAS_MIN_FEATURES}[path]
    rng = np.random.default_rng(11)
    X, w, means, U, const, centre = _separated(rng, 1500, d, 4, dtype, weighted)
    assert full.uses_blas(X, U.astype(dtype)) == (path == "blas")
    fn = full.full_blas if path == "blas" else full._full_loops
    got = _kernel(fn, X, w, means, U, const, centre)
    want = _direct(X, w, means.astype(dtype), U.astype(dtype), const, centre)
    # most of the responsibilities are below the floor; the rows between blobs are not
    r = want[4] / np.maximum(want[4].sum(axis=1, keepdims=True), 1e-300)
    assert (r < 2.0**-130).mean() > 0.7 and ((r > 1e-3).sum(axis=1) >= 2).sum() >= 10
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    spread = float(np.abs(X[:, None, :].astype(np.float64) - centre[None]).max())
    scale = max(float(want[1].max()), 1.0)
    assert abs(got[0] - want[0]) <= rtol * abs(want[0]) * 10
    np.testing.assert_allclose(got[1], want[1], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(got[2], want[2], rtol=rtol, atol=rtol * scale * spread)
    np.testing.assert_allclose(got[3], want[3], rtol=rtol, atol=rtol * scale * spread**2)


def _faint_problem(d, dtype, log_ratio):
    """Component 2 a copy of component 0 whose weight is ``exp(-log_ratio)`` times smaller:
    every row's responsibility for it is about ``exp(-log_ratio)``."""
    rng = np.random.default_rng(3)
    k = 3
    means = rng.normal(size=(k, d)) * 3.0
    means[2] = means[0]
    X = (means[rng.integers(0, 2, size=600)] + rng.normal(size=(600, d))).astype(dtype)
    U = np.stack([_factor(rng, d) for _ in range(k)])
    U[2] = U[0]
    const = np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    const[2] = const[0] - log_ratio
    return X, np.zeros(0), means, U, const, means.copy()


@pytest.mark.parametrize("path", ["loops", "blas"])
def test_float64_floor_is_two_to_the_minus_130(path):
    from emix._kernels import numba_full as full
    from emix._kernels.numba_blocks import scatter_floor

    assert scatter_floor(8) == 2.0**-130 and scatter_floor(4) == 2.0**-100
    d = {"loops": 16, "blas": full.BLAS_MIN_FEATURES}[path]
    fn = full.full_blas if path == "blas" else full._full_loops
    # exp(-85) ~ 1.2e-37 is above 2**-130 ~ 7.3e-40: every row is kept
    above = _kernel(fn, *_faint_problem(d, np.float64, 85.0))
    # exp(-95) ~ 5.5e-42 is below it: no row enters component 2's moments, its count stays
    below = _kernel(fn, *_faint_problem(d, np.float64, 95.0))
    assert above[3][2].all() and above[2][2].all()
    assert 0.0 < below[1][2] < 1e-40 * 600
    assert not below[3][2].any() and not below[2][2].any()
    # the other components are those of the same data without the faint copy, to rounding
    np.testing.assert_allclose(below[3][:2], above[3][:2], rtol=1e-12)
