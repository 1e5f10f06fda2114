"""Float32 kernels keep subnormal numbers out of their products (emix._kernels.subnormal_floor).

A responsibility below ``2**-100`` that entered a float32 product with the data would make a
subnormal number, which Intel CPUs compute some hundred times slower (200k x 16, K=8 diag
float32: 130 ms per pass against 15.6 ms once they are left out, docs/benchmarks.md, Round
10). Each float32 path takes such a responsibility as 0 there: the component below is a copy
of another whose weight is ``exp(-80)`` times smaller, so every one of its responsibilities is
about ``1.8e-35`` (a normal float32 number, below the floor). Its float32 statistics that are
products in float32 come out exactly 0; in float64 (no floor) they do not.
"""

from __future__ import annotations

import numpy as np
import pytest

from emix import _kernels

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")

#: log of the weight ratio of the faint copy: its responsibilities are exp(-80) ~ 1.8e-35
FAINT = 80.0


def _faint_copy(const):
    const = np.array(const, dtype=np.float64)
    const[-1] = const[0] - FAINT
    return const


def _axis_problem(dtype, spherical, d):
    rng = np.random.default_rng(3)
    n, k = 600, 3
    X = (rng.normal(size=(n, d)) * 2.0 + 3.0).astype(dtype)
    g = X.mean(axis=0)
    p = rng.uniform(0.3, 2.0, size=k)
    if spherical:
        a = (p[:, None] * rng.normal(size=(k, d))).astype(dtype)
    else:
        a = rng.normal(size=(k, d)).astype(dtype)
    b = np.repeat((-0.5 * p)[:, None], d, axis=1).astype(dtype)
    a[-1], b[-1] = a[0], b[0]
    const = _faint_copy(np.log(np.full(k, 1 / k)) + 0.5 * d * np.log(p))
    return X, np.zeros(0), g, a, b, const


@pytest.mark.parametrize("d", [5, 20], ids=["loops", "blas"])
@pytest.mark.parametrize("spherical", [False, True], ids=["diag", "spherical"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axis_kernels_leave_faint_responsibilities_out_in_float32(spherical, dtype, d):
    """Five features run the loops, twenty the BLAS path (``AXIS_BLAS_MIN_FEATURES``)."""
    axis = _kernels.axis_kernels()
    fn = axis.sph_fused_shifted if spherical else axis.diag_fused_shifted
    X, w, g, a, b, const = _axis_problem(dtype, spherical, d)
    k, d = a.shape
    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
    fn(X, w, g, a, b, const, nk, t1, t2, True)
    assert nk[0] > 1.0
    if dtype == np.float32:
        assert not t1[-1].any() and not t2[-1].any()
    else:
        assert t1[-1].any() and t2[-1].all() and 0.0 < nk[-1] < 1e-30 * X.shape[0]


def _factor(rng, d):
    a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    return np.triu(np.linalg.inv(np.linalg.cholesky(a @ a.T)).T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_blas_path_leaves_faint_responsibilities_out_of_its_float32_scatter(dtype):
    from emix._kernels import numba_full as full

    rng = np.random.default_rng(4)
    n, d, k = 300, full.BLAS_MIN_FEATURES, 3
    X = (rng.normal(size=(n, d)) + 5.0).astype(dtype)
    means = rng.normal(size=(k, d)) + 5.0
    means[-1] = means[0]
    U = np.stack([_factor(rng, d) for _ in range(k)])
    U[-1] = U[0]
    const = _faint_copy(np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1))
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    full.full_blas(X, np.zeros(0), means, U, const, means.copy(), nk, s1, s2, True)
    assert 0.0 < nk[-1] < 1e-30 * n  # the counts are float64 sums
    if dtype == np.float32:
        assert not s2[-1].any()
    else:
        assert s2[-1].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tied_blas_path_leaves_faint_responsibilities_out_of_its_float32_moments(dtype):
    from emix._kernels import numba_gaussian as ng

    rng = np.random.default_rng(5)
    n, d, k = 300, ng.TIED_BLAS_MIN_FEATURES_F32 if dtype == np.float32 else ng.TIED_BLAS_MIN_FEATURES, 3
    X = (rng.normal(size=(n, d)) + 5.0).astype(dtype)
    means = rng.normal(size=(k, d)) + 5.0
    means[-1] = means[0]
    U = _factor(rng, d)
    assert ng.tied_uses_blas(X, U)
    g = means.mean(axis=0)
    mu_u = (means - g) @ U
    const = _faint_copy(np.full(k, np.log(np.diagonal(U)).sum()))
    centre = means + 0.5  # so that a row's first moment about its anchor is not zero
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((d, d))
    ng._tied_blas(X, np.zeros(0), g, U, mu_u, const, centre, nk, s1, s2, True)
    assert 0.0 < nk[-1] < 1e-30 * n
    if dtype == np.float32:
        assert not s1[-1].any()
    else:
        assert s1[-1].any()
