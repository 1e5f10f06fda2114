"""The BLAS paths of the full and tied kernels (emix._kernels.numba_full, numba_gaussian).

From ``BLAS_MIN_FEATURES`` features on (float32 data: ``BLAS_MIN_FEATURES_F32``; the
tied model: ``TIED_BLAS_MIN_FEATURES`` and ``TIED_BLAS_MIN_FEATURES_F32``), an
upper-triangular precision factor's products go to SciPy's BLAS (``trmm`` for the
densities, ``syrk`` for the scatter). These tests hold that
path to the loops it replaces, to the NumPy kernel, and whole fits to
scikit-learn's from the same start; tied float32 fits now take the grouped pass,
so they do not depend on ``n_jobs`` or ``chunk_size``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import assert_same_start_fit_as_sklearn, stable_seed

from emix import _kernels
from emix.estimators.gaussian import GaussianMixture
from emix.families.gaussian import get_covariance_model

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _full():
    from emix._kernels import numba_full

    return numba_full


def _problem(rng, n, d, k, dtype, weighted, empty=False):
    X = (rng.normal(size=(n, d)) * 2.0 + 5.0).astype(dtype)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    means = rng.normal(size=(k, d)) + 5.0
    centre = means + rng.normal(scale=0.3, size=(k, d))
    U = np.empty((k, d, d))
    for c in range(k):
        a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
        U[c] = np.triu(np.linalg.inv(np.linalg.cholesky(a @ a.T)).T)  # upper, as emix holds it
    const = np.log(rng.dirichlet(np.ones(k))) + np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    if empty:
        const[-1] = -np.inf  # a component no row can come from: its statistics stay zero
    return X, w, means, U, const, centre


def _run(fn, X, w, means, U, const, centre, moments=True):
    k, d = means.shape
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    ll = fn(X, w, means, U, const, centre, nk, s1, s2, moments)
    return ll, nk, s1, s2


def _assert_close(a, b, X, centre, rtol=1e-12):
    spread = float(np.abs(X.astype(np.float64)[:, None, :] - centre[None]).max())
    n = X.shape[0] * 3.0
    assert abs(a[0] - b[0]) <= rtol * max(abs(b[0]), 1.0)
    np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(a[2], b[2], rtol=rtol, atol=rtol * n * spread)
    np.testing.assert_allclose(a[3], b[3], rtol=rtol, atol=rtol * n * spread**2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(1000, 64, 3), (300, 48, 2), (257, 50, 1), (513, 49, 4), (400, 24, 3)])
def test_blas_path_equals_loops(dtype, weighted, shape):
    """Same log-likelihood, counts, first and second moments as the loops, to 1e-12, for
    blocks that do and do not fill (257, 513 rows against 256-row blocks), with weights and
    with a component that takes no row; the scatter symmetric."""
    full = _full()
    rng = np.random.default_rng(stable_seed(str(dtype), weighted, shape))
    args = _problem(rng, *shape, dtype, weighted, empty=shape[2] > 2)
    blas = _run(full.full_blas, *args)
    loops = _run(full._full_loops, *args)  # float64 products: float32 data's BLAS products are float32
    _assert_close(blas, loops, args[0], args[5], rtol=1e-12 if dtype == np.float64 else 2e-6)
    np.testing.assert_array_equal(blas[3], np.swapaxes(blas[3], 1, 2))
    if shape[2] > 2:
        assert blas[1][-1] == 0.0 and not blas[2][-1].any() and not blas[3][-1].any()


def test_dispatch_goes_to_blas_only_for_wide_triangular_factors():
    """``full_fused`` takes the BLAS path from ``BLAS_MIN_FEATURES`` features on (float32
    data: ``BLAS_MIN_FEATURES_F32``) and for triangular factors only (all upper, or all lower
    as a start from ``precisions_init`` holds them); a factor held in a strided view is read
    correctly."""
    full = _full()
    rng = np.random.default_rng(7)
    d = full.BLAS_MIN_FEATURES
    X, w, means, U, const, centre = _problem(rng, 700, d, 3, np.float64, True)
    assert full.uses_blas(X, U)
    assert not full.uses_blas(X, np.ascontiguousarray(U[:, 1:, 1:]))  # one feature fewer
    lower = np.linalg.cholesky(U @ np.swapaxes(U, 1, 2))  # the same precisions, lower factors
    assert full.uses_blas(X, lower)  # (from precisions_init)
    mixed = np.concatenate([U[:1], lower[1:]])
    assert not full.uses_blas(X, mixed)  # neither all upper nor all lower: the general product
    assert not full.uses_blas(X, U + np.swapaxes(U, 1, 2))  # full matrices likewise
    d32 = full.BLAS_MIN_FEATURES_F32
    assert 16 < d32 < d
    x32 = np.zeros((2, d32), np.float32)
    assert full.uses_blas(x32, np.ascontiguousarray(U[:, :d32, :d32]))
    assert not full.uses_blas(x32[:, 1:], np.ascontiguousarray(U[:, 1:d32, 1:d32]))
    assert not full.uses_blas(np.zeros((2, d32)), np.ascontiguousarray(U[:, :d32, :d32]))
    # many components: the loops' densities are not one product there, BLAS takes over sooner
    dk = full.BLAS_MIN_FEATURES_WIDE_K
    k_wide = full.GEMM_MAX_COLUMNS // dk + 1
    wide_k = np.broadcast_to(U[:1, :dk, :dk], (k_wide, dk, dk))
    assert full.uses_blas(X, np.ascontiguousarray(wide_k))
    assert not full.uses_blas(X, np.ascontiguousarray(wide_k[:3]))
    wide = _run(full.full_fused, X, w, means, U, const, centre)
    _assert_close(wide, _run(full._full_loops, X, w, means, U, const, centre), X, centre)
    strided = np.zeros((3, d + 5, d + 3))
    strided[:, :d, :d] = U
    view = strided[:, :d, :d]
    assert not view.flags.c_contiguous
    _assert_close(_run(full.full_fused, X, w, means, view, const, centre), wide, X, centre)
    _assert_close(_run(full.full_fused, X, w, means, lower, const, centre), wide, X, centre)
    _assert_close(_run(full.full_fused, X, w, means, mixed, const, centre), wide, X, centre)


def test_blas_path_log_likelihood_only():
    """``moments=False``: the same log-likelihood, and the accumulators are not touched."""
    full = _full()
    rng = np.random.default_rng(11)
    args = _problem(rng, 400, 64, 3, np.float64, True)
    ll, nk, s1, s2 = _run(full.full_blas, *args, moments=False)
    assert ll == pytest.approx(_run(full._full_loops, *args)[0], rel=1e-13)
    assert not nk.any() and not s1.any() and not s2.any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_full_pass_equals_numpy_kernel(dtype):
    """The model's fused pass at D = 64 with numba (BLAS) and without (NumPy) agree."""
    rng = np.random.default_rng(5)
    X, w, means, U, const, centre = _problem(rng, 900, 64, 3, dtype, True)
    log_weights = np.log(np.array([0.2, 0.3, 0.5]))
    model = get_covariance_model("full")
    out = []
    for use in (True, False):
        with _kernels.use_numba(use):
            nk, s1, s2, ll = model.fused(X, w, log_weights, means.astype(dtype), U.astype(dtype), centre)
        out.append((ll, nk, s1, s2))
    _assert_close(out[0], out[1], X, centre, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_fit_same_start_as_sklearn(dtype):
    """Eight plain iterations at D = 64 from scikit-learn's start: the log-likelihood and the
    fitted parameters agree with scikit-learn's to 1e-12 relative in float64 (float32: both
    compute the products in float32, scikit-learn its sums over all rows too)."""
    rng = np.random.default_rng(3)
    d, k = 64, 3
    X = np.concatenate([rng.normal(size=(700, d)) + 0.25 * c for c in range(k)])  # overlapping
    assert_same_start_fit_as_sklearn(X.astype(dtype), k)


def _tied_problem(rng, n, d, k, dtype, weighted):
    X = (rng.normal(size=(n, d)) * 2.0 + 5.0).astype(dtype)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    means = rng.normal(size=(k, d)) + 5.0
    g = means.mean(axis=0)
    a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    U = np.triu(np.linalg.inv(np.linalg.cholesky(a @ a.T)).T)
    const = np.log(rng.dirichlet(np.ones(k))) + np.log(np.diag(U)).sum()
    centre = means + rng.normal(scale=0.3, size=(k, d))
    return X, w, g, U, (means - g) @ U, const, centre


def _tied_run(fn, X, w, g, U, mu_u, const, centre, moments=True):
    k, d = mu_u.shape
    nk, s1, a = np.zeros(k), np.zeros((k, d)), np.zeros((d, d))
    ll = fn(X, w, g, U, mu_u, const, centre, nk, s1, a, moments)
    return ll, nk, s1, a


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "dtype, shape",
    [(np.float64, (1000, 64, 3)), (np.float64, (257, 48, 1)), (np.float32, (513, 20, 4)),
     (np.float32, (300, 24, 8)), (np.float32, (700, 64, 2))],
)  # fmt: skip
def test_tied_blas_path_equals_loops(dtype, weighted, shape):
    """The tied model's BLAS path against its float64 loops: to 1e-12 in float64; in float32,
    whose products and distances are float32 there, to float32 rounding; the scatter
    symmetric, and ``moments=False`` leaves the accumulators alone."""
    from emix._kernels import numba_gaussian as ng

    rng = np.random.default_rng(stable_seed(str(dtype), weighted, shape))
    args = _tied_problem(rng, *shape, dtype, weighted)
    assert ng.tied_uses_blas(args[0], args[3])
    blas = _tied_run(ng._tied_blas, *args)
    loops = _tied_run(ng._tied_loops, *args)
    X = args[0]
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    spread = float(np.abs(X.astype(np.float64) - args[2]).max())
    n = X.shape[0] * 3.0
    assert abs(blas[0] - loops[0]) <= rtol * abs(loops[0])
    np.testing.assert_allclose(blas[1], loops[1], rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(blas[2], loops[2], rtol=rtol, atol=rtol * n * spread)
    np.testing.assert_allclose(blas[3], loops[3], rtol=rtol, atol=rtol * n * spread**2)
    np.testing.assert_array_equal(blas[3], blas[3].T)
    ll, nk, s1, a = _tied_run(ng._tied_blas, *args, moments=False)
    assert ll == blas[0] and not nk.any() and not s1.any() and not a.any()
    assert _tied_run(ng.tied_fused, *args)[0] == pytest.approx(blas[0], rel=rtol)


def test_tied_dispatch():
    """BLAS for float32 data from ``TIED_BLAS_MIN_FEATURES_F32`` features on and for float64
    data from ``TIED_BLAS_MIN_FEATURES`` on, with an upper-triangular factor only."""
    from emix._kernels import numba_gaussian as ng

    d32, d64 = ng.TIED_BLAS_MIN_FEATURES_F32, ng.TIED_BLAS_MIN_FEATURES
    assert 8 < d32 < d64  # float32 at D = 8 runs the float64 loops (faster there, and exact)
    U = np.triu(np.ones((d32, d32)))
    assert ng.tied_uses_blas(np.zeros((3, d32), np.float32), U)
    below = np.triu(np.ones((d32 - 1, d32 - 1)))
    assert not ng.tied_uses_blas(np.zeros((3, d32 - 1), np.float32), below)
    assert not ng.tied_uses_blas(np.zeros((3, d32)), U)
    assert not ng.tied_uses_blas(np.zeros((3, d32), np.float32), np.tril(np.ones((d32, d32))))
    assert ng.tied_uses_blas(np.zeros((3, d64)), np.triu(np.ones((d64, d64))))
    assert not ng.tied_uses_blas(np.zeros((3, d64 - 1)), np.triu(np.ones((d64 - 1, d64 - 1))))


def test_tied_float32_fit_independent_of_threads_and_chunks():
    """A tied float32 fit at D = 8 from a given start runs the grouped pass: the same to the
    bit for any ``n_jobs`` and ``chunk_size``, and close to the float64 fit of the same rows."""
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(size=(20_000, 8)) + 0.8 * c for c in range(3)]).astype(np.float32)
    start = dict(weights_init=np.full(3, 1 / 3), means_init=X[[0, 20_000, 40_000]], precisions_init=np.eye(8))
    kw = dict(covariance_type="tied", tol=0, max_iter=6, accelerate=False, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = GaussianMixture(3, n_jobs=1, **kw).fit(X)
        b = GaussianMixture(3, n_jobs=2, chunk_size=7_000, **kw).fit(X)
        c = GaussianMixture(3, **kw).fit(X.astype(np.float64))
    np.testing.assert_array_equal(a.history_, b.history_)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    np.testing.assert_allclose(a.means_, c.means_, rtol=1e-4, atol=1e-4)
    assert a.log_likelihood_ == pytest.approx(c.log_likelihood_, rel=1e-5)
