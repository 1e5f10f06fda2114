"""The BLAS path of the diagonal and spherical kernels (emix._kernels.numba_axis_blas).

From ``AXIS_BLAS_MIN_FEATURES`` features on, both kernels compute their sums over the
features as two matrix products per block of rows (the log-densities ``[z, z**2] C^T``,
the statistics ``R^T [z, z**2]``; spherical: ``[z, |z|**2]``). These tests hold that
path to the loops it replaces, check the dispatch at the threshold, and hold whole
fits at D = 24 to scikit-learn's from the same start.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_same_start_fit_as_sklearn, stable_seed

from emix import _kernels

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _axis():
    from emix._kernels import numba_axis, numba_axis_blas

    return numba_axis, numba_axis_blas


def _problem(rng, n, d, k, dtype, weighted, spherical, empty=False):
    X = (rng.normal(size=(n, d)) * 2.0 + 3.0).astype(dtype)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    g = (rng.normal(size=d) + 3.0).astype(dtype)
    if spherical:
        p = np.repeat(rng.uniform(0.3, 2.0, size=(k, 1)), d, axis=1)
    else:
        p = rng.uniform(0.3, 2.0, size=(k, d))
    mu = rng.normal(size=(k, d))
    a = (p * mu).astype(dtype)
    b = (-0.5 * p).astype(dtype)
    const = np.log(rng.dirichlet(np.ones(k))) + 0.5 * np.log(p).sum(axis=1) - 0.5 * (p * mu * mu).sum(axis=1)
    if empty:
        const[-1] = -np.inf  # a component no row can come from: its statistics stay zero
    return X, w, g, a, b, const


def _run(fn, X, w, g, a, b, const, moments=True):
    k, d = a.shape
    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
    ll = fn(X, w, g, a, b, const, nk, t1, t2, moments)
    return ll, nk, t1, t2


def _assert_close(x, y, X, g, rtol):
    n = X.shape[0] * 3.0
    spread = float(np.abs(X.astype(np.float64) - g).max()) + 1.0
    assert abs(x[0] - y[0]) <= rtol * max(abs(y[0]), 1.0)
    np.testing.assert_allclose(x[1], y[1], rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(x[2], y[2], rtol=rtol, atol=rtol * n * spread)
    np.testing.assert_allclose(x[3], y[3], rtol=rtol, atol=rtol * n * spread**2)


@pytest.mark.parametrize("spherical", [False, True], ids=["diag", "spherical"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(1000, 64, 16), (257, 16, 3), (513, 33, 4), (100, 20, 1)])
def test_blas_path_equals_loops(spherical, dtype, weighted, shape):
    """Same log-likelihood, counts, first and second moments as the loops: to 1e-12 in
    float64, to float32 rounding in float32 (both sum in the data's dtype within a block),
    for blocks that do and do not fill (257, 513 and 100 rows against 256-row blocks), with
    weights and with a component that takes no row."""
    axis, _ = _axis()
    empty = shape[2] in (3, 4)
    rng = np.random.default_rng(stable_seed(str(dtype), weighted, shape, spherical))
    args = _problem(rng, *shape, dtype, weighted, spherical, empty=empty)
    wide, loops = (
        (axis.sph_fused_shifted, axis.sph_loops) if spherical else (axis.diag_fused_shifted, axis.diag_loops)
    )
    got = _run(wide, *args)
    ref = _run(loops, *args)
    _assert_close(got, ref, args[0], args[2], rtol=1e-12 if dtype == np.float64 else 2e-5)
    if empty:
        assert got[1][-1] == 0.0 and not got[2][-1].any() and not got[3][-1].any()
    if spherical:  # the split: the scatter about the mean is the same in every feature
        within = got[3] - got[2] ** 2 / np.maximum(got[1], 1e-300)[:, None]
        live = got[1] > 0
        np.testing.assert_allclose(
            within[live], within[live][:, :1] * np.ones(shape[1]), rtol=1e-9, atol=1e-6
        )


@pytest.mark.parametrize("spherical", [False, True], ids=["diag", "spherical"])
def test_dispatch_at_the_threshold(spherical):
    """Below ``AXIS_BLAS_MIN_FEATURES`` the kernel is the loops to the bit; from there on it
    is the BLAS path to the bit."""
    axis, blas = _axis()
    d0 = blas.AXIS_BLAS_MIN_FEATURES
    fn = axis.sph_fused_shifted if spherical else axis.diag_fused_shifted
    loops = axis.sph_loops if spherical else axis.diag_loops
    for d, expect_blas in ((d0 - 1, False), (d0, True)):
        rng = np.random.default_rng(d)
        args = _problem(rng, 700, d, 3, np.float64, True, spherical)
        got = _run(fn, *args)
        same = _run(loops, *args)
        if not expect_blas:
            for x, y in zip(got, same):
                np.testing.assert_array_equal(x, y)
            continue
        if spherical:
            X, w, g, a, b, const = args
            nk, t1, t2 = np.zeros(3), np.zeros((3, d)), np.zeros((3, 1))
            ll = blas.axis_blas(X, w, g, a, np.ascontiguousarray(b[:, :1]), const, nk, t1, t2, True)
            assert got[0] == ll
            np.testing.assert_array_equal(got[1], nk)
            np.testing.assert_array_equal(got[2], t1)
            np.testing.assert_allclose(got[3].sum(axis=1), t2[:, 0], rtol=1e-13)
        else:
            direct = _run(blas.axis_blas, *args)
            for x, y in zip(got, direct):
                np.testing.assert_array_equal(x, y)
        assert any(not np.array_equal(x, y) for x, y in zip(got, same))  # another summation order


@pytest.mark.parametrize("spherical", [False, True], ids=["diag", "spherical"])
def test_blas_path_log_likelihood_only(spherical):
    """``moments=False``: the same log-likelihood, and the accumulators are not touched."""
    axis, _ = _axis()
    args = _problem(np.random.default_rng(11), 600, 40, 5, np.float64, True, spherical)
    fn, loops = (
        (axis.sph_fused_shifted, axis.sph_loops) if spherical else (axis.diag_fused_shifted, axis.diag_loops)
    )
    ll, nk, t1, t2 = _run(fn, *args, moments=False)
    assert ll == pytest.approx(_run(loops, *args)[0], rel=1e-13)
    assert not nk.any() and not t1.any() and not t2.any()


@pytest.mark.parametrize("cov", ["diag", "spherical"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_fit_same_start_as_sklearn(cov, dtype):
    """Eight plain iterations at D = 24 from scikit-learn's start agree with scikit-learn's to
    1e-12 relative in float64 (float32: both compute the products in float32)."""
    rng = np.random.default_rng(4)
    d, k = 24, 3
    X = np.concatenate([rng.normal(size=(900, d)) * (1 + 0.3 * c) + 0.4 * c for c in range(k)]).astype(dtype)
    assert_same_start_fit_as_sklearn(X, k, cov)
