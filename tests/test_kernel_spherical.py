"""The spherical model's compiled kernel (emix._kernels.numba_axis.sph_fused_shifted).

It computes a spherical component's density with one multiply-add per element
(the diagonal kernel's two) and keeps only the scalar second moment, split over
the features. These tests hold it to the diagonal kernel run on the same
problem, to the NumPy pass, and to the invariants of the split.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import stable_seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emix import _kernels
from emix.estimators.gaussian import GaussianMixture
from emix.families.gaussian import get_covariance_model
from emix.families.gaussian.params import GaussianStats

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _coefficients(rng, n, d, k, dtype, weighted):
    X = (rng.normal(size=(n, d)) * 2.0 + 3.0).astype(dtype)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    g = rng.normal(size=d).astype(dtype) + 3.0
    p = rng.uniform(0.3, 2.0, size=k)
    a = (p[:, None] * rng.normal(size=(k, d))).astype(dtype)
    b = np.repeat((-0.5 * p)[:, None], d, axis=1).astype(dtype)
    const = np.log(rng.dirichlet(np.ones(k))) + 0.5 * d * np.log(p)
    return X, w, g, a, b, const


def _run(fn, X, w, g, a, b, const):
    k, d = a.shape
    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
    ll = fn(X, w, g, a, b, const, nk, t1, t2, True)
    return ll, nk, t1, t2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(1000, 64, 16), (300, 3, 5), (129, 1, 1), (257, 7, 2)])
@pytest.mark.parametrize("seed", range(4))
def test_spherical_kernel_equals_diagonal_kernel(dtype, weighted, shape, seed):
    """Same log-likelihood, counts and first moments as the diagonal kernel given equal
    precisions; the same scalar second moment; and the split is spherical: ``t2 - t1**2 / nk``
    equal in every feature."""
    axis = _kernels.axis_kernels()
    rng = np.random.default_rng(stable_seed(str(dtype), weighted, shape, seed))
    args = _coefficients(rng, *shape, dtype, weighted)
    ll_s, nk_s, t1_s, t2_s = _run(axis.sph_fused_shifted, *args)
    ll_d, nk_d, t1_d, t2_d = _run(axis.diag_fused_shifted, *args)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    n, d = args[0].shape
    scale = float(np.abs(args[0].astype(np.float64) - args[2]).max()) + 1.0
    assert abs(ll_s - ll_d) <= rtol * max(abs(ll_d), 1.0)
    np.testing.assert_allclose(nk_s, nk_d, rtol=rtol, atol=rtol * 3 * n)
    np.testing.assert_allclose(t1_s, t1_d, rtol=rtol, atol=rtol * 3 * n * scale)
    np.testing.assert_allclose(
        t2_s.sum(axis=1), t2_d.sum(axis=1), rtol=rtol, atol=rtol * 3 * n * d * scale**2
    )
    within = t2_s - t1_s**2 / nk_s[:, None]
    np.testing.assert_allclose(within, within[:, :1] * np.ones(d), rtol=1e-10, atol=1e-9 * n * scale**2)
    assert np.all(within >= -1e-9 * n * scale**2)


def test_spherical_kernel_log_likelihood_only():
    axis = _kernels.axis_kernels()
    args = _coefficients(np.random.default_rng(1), 500, 5, 3, np.float64, True)
    k, d = args[3].shape
    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
    ll = axis.sph_fused_shifted(*args, nk, t1, t2, False)
    assert ll == _run(axis.sph_fused_shifted, *args)[0]
    assert not nk.any() and not t1.any() and not t2.any()


def _spherical_pass(use, X, w, log_weights, means, pc, centre, step):
    """The spherical model's per-pass state over chunks of ``step`` rows, added up."""
    model = get_covariance_model("spherical")
    with _kernels.use_numba(use):
        run = model.prepare(log_weights, means, pc, centre)
        parts = [run(X[i : i + step], None if w is None else w[i : i + step]) for i in range(0, len(X), step)]
    nk, s1, s2, ll = (sum(p[j] for p in parts) for j in range(4))
    return GaussianStats(nk=nk, s1=s1, s2=s2, centre=centre), ll


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 400),
    d=st.integers(1, 9),
    k=st.integers(1, 5),
    weighted=st.booleans(),
    step=st.integers(1, 300),
    seed=st.integers(0, 2**31 - 1),
)
def test_spherical_pass_any_chunking_gives_numpy_m_step(n, d, k, weighted, step, seed):
    """The compiled spherical pass, chunked any way, gives the NumPy pass's log-likelihood,
    means and spherical variances (its statistics differ only in how the scalar is split)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 2.0 + 10.0
    w = rng.uniform(0.0, 3.0, size=n) if weighted else None
    means = rng.normal(size=(k, d)) + 10.0
    log_weights = np.log(rng.dirichlet(np.ones(k)))
    centre = means + rng.normal(scale=0.3, size=(k, d))
    pc = rng.uniform(0.5, 2.0, size=k)
    model = get_covariance_model("spherical")
    got, ll_got = _spherical_pass(True, X, w, log_weights, means, pc, centre, step)
    want, ll_want = _spherical_pass(False, X, w, log_weights, means, pc, centre, n)
    assert abs(ll_got - ll_want) <= 1e-11 * max(abs(ll_want), 1.0)
    np.testing.assert_allclose(got.nk, want.nk, rtol=1e-11, atol=1e-11 * 3 * n)
    np.testing.assert_allclose(got.s1, want.s1, rtol=1e-11, atol=1e-10 * 3 * n * 20)
    keep = want.nk > 1e-6 * max(want.nk.max(), 1e-300)
    if keep.any():
        var_got = model.covariance(got, got.nk, 0.0)[keep]
        var_want = model.covariance(want, want.nk, 0.0)[keep]
        np.testing.assert_allclose(var_got, var_want, rtol=1e-8, atol=1e-10)


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")  # 15 fixed iterations
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spherical_fit_same_with_and_without_numba(dtype):
    """A whole spherical fit (the grouped in-memory pass) with the compiled kernel follows the
    NumPy fit's path."""
    rng = np.random.default_rng(4)
    X = np.concatenate([rng.normal(size=(3000, 20)) + 4.0 * i for i in range(3)]).astype(dtype)
    kw = dict(covariance_type="spherical", random_state=0, max_iter=15, tol=0.0, accelerate=False)
    with _kernels.use_numba(True):
        a = GaussianMixture(3, **kw).fit(X)
    with _kernels.use_numba(False):
        b = GaussianMixture(3, **kw).fit(X)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    assert abs(a.lower_bound_ - b.lower_bound_) <= rtol * abs(b.lower_bound_)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=rtol * 100)
    np.testing.assert_allclose(a.means_, b.means_, rtol=rtol * 100, atol=rtol * 100)
