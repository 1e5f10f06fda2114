"""The pruned densities of the full model's BLAS path (emix._kernels.numba_full_blas).

A density is computed in full unless a bound from half its product puts it more than
``PRUNE_NATS`` below a density of the same row that was computed; then it is ``-inf``. These
tests hold every computed density to a direct NumPy computation, every pruned one to that
guarantee, the whole pass to the loops it replaces, and whole fits to scikit-learn's, on data
where most densities are pruned and on data where the pass falls back to plain products.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_same_start_fit_as_sklearn

from emix import _kernels

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _separated(rng, n, d, k, dtype=np.float64, spread=4.0, between=0.1):
    """Blobs far apart (as in the benchmark), a fraction ``between`` of the rows half-way between
    two of them (far from both), and the fitted-like parameters: means, upper-triangular factors,
    constants."""
    centres = rng.normal(0.0, spread, size=(k, d))
    labels = rng.integers(0, k, size=n)
    between = rng.random(n) < between
    at = np.where(between[:, None], 0.5 * (centres[labels] + centres[(labels + 1) % k]), centres[labels])
    X = np.empty((n, d))
    U = np.empty((k, d, d))
    for c in range(k):
        a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
        rows = labels == c
        X[rows] = at[rows] + rng.normal(size=(int(rows.sum()), d)) @ a.T  # covariance a a^T
        U[c] = np.triu(np.linalg.inv(np.linalg.cholesky(a @ a.T)).T)  # its precision U U^T
    const = np.log(rng.dirichlet(np.ones(k) * 5)) + np.log(np.diagonal(U, axis1=1, axis2=2)).sum(axis=1)
    return X.astype(dtype), centres, U, const


def _exact(X, means, U, const):
    """The log-densities (K, n) in float64, directly."""
    y = np.einsum("knd,kde->kne", X.astype(np.float64)[None] - means[:, None], U)
    return const[:, None] - 0.5 * (y**2).sum(axis=2)


def _pruned_block(X, means, U, const, lower=False):
    from emix._kernels import numba_full_blas as fb
    from emix._kernels.numba_blas import blas_args

    nr, d = X.shape
    k = means.shape[0]
    chars, _, one, _ = blas_args(d, X.dtype)
    part = np.array([d // 2, nr, d], dtype=np.int32)
    whole = np.array([d, nr, d], dtype=np.int32)
    lj = np.empty((k, nr))
    y = np.empty((nr, d), dtype=X.dtype)
    bound, best, rows = np.empty((k, nr)), np.empty(nr, dtype=np.int64), np.empty(nr, dtype=np.int64)
    mc = np.ascontiguousarray(means, dtype=X.dtype)
    uc = np.ascontiguousarray(U, dtype=X.dtype)
    full = fb._pruned_densities(
        X, nr, mc, uc, const, lower, part, whole, y, chars, one, bound, best, rows, lj
    )
    return lj, full


def _lower(U):
    """The lower factors ``L`` of the same precisions (``L L^T = U U^T``), as a start from
    ``precisions_init`` holds them."""
    return np.linalg.cholesky(U @ np.swapaxes(U, 1, 2))


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("d,k", [(64, 8), (48, 16), (65, 5)])
def test_computed_densities_are_exact_and_pruned_ones_far_below(d, k, lower):
    """Every density left finite equals the direct one to 1e-12; every pruned one lies more than
    ``PRUNE_NATS`` below its row's largest; most are pruned, and the count returned is right;
    with upper and with lower factors."""
    from emix._kernels.numba_full_blas import PRUNE_NATS

    rng = np.random.default_rng(d * 100 + k)
    X, means, U, const = _separated(rng, 256, d, k)
    if lower:
        U = _lower(U)
    lj, full = _pruned_block(X, means, U, const, lower)
    ref = _exact(X, means, U, const)
    kept = np.isfinite(lj)
    np.testing.assert_allclose(lj[kept], ref[kept], rtol=1e-12)
    assert np.all(ref[~kept] < ref.max(axis=0, keepdims=True).repeat(k, 0)[~kept] - PRUNE_NATS)
    assert full == kept.sum()
    assert kept.all(axis=0).sum() < 256 and kept.any(axis=0).all()
    assert np.all(kept[ref.argmax(axis=0), np.arange(256)])  # each row's largest is computed
    X, means, U, const = _separated(rng, 256, d, k, between=0.0)
    U = _lower(U) if lower else U
    lj, full = _pruned_block(X, means, U, const, lower)
    assert full < 0.3 * lj.size  # rows within a blob: pruning pays
    np.testing.assert_allclose(lj.max(axis=0), _exact(X, means, U, const).max(axis=0), rtol=1e-12)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_pruned_pass_equals_the_loops(dtype, weighted, lower):
    """The whole BLAS pass on separated data (most densities pruned, 1100 rows over five
    blocks) gives the loops' log-likelihood, counts and moments to 1e-12 (float32: 2e-6), with
    upper and with lower factors."""
    full = pytest.importorskip("emix._kernels.numba_full")
    rng = np.random.default_rng(7 + weighted)
    n, d, k = 1100, 64, 8
    X, means, U, const = _separated(rng, n, d, k, dtype)
    U = _lower(U) if lower else U
    assert full.uses_blas(X, U)
    w = rng.uniform(0.0, 3.0, size=n) if weighted else np.zeros(0)
    centre = means + rng.normal(scale=0.3, size=means.shape)
    out = []
    for fn in (full.full_blas, full._full_loops):
        nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
        ll = fn(X, w, means, U, const, centre, nk, s1, s2, True)
        out.append((ll, nk, s1, s2))
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    (ll_b, nk_b, s1_b, s2_b), (ll_l, nk_l, s1_l, s2_l) = out
    assert ll_b == pytest.approx(ll_l, rel=rtol)
    np.testing.assert_allclose(nk_b, nk_l, rtol=rtol, atol=rtol)
    scale = float(np.abs(X).max()) * n
    np.testing.assert_allclose(s1_b, s1_l, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(s2_b, s2_l, rtol=rtol, atol=rtol * scale * float(np.abs(X).max()))


def test_fits_on_separated_data_follow_sklearn():
    """Eight iterations on separated blobs at D = 64, K = 8 (the pruned path) from
    scikit-learn's start: scikit-learn's path, to 1e-12."""
    rng = np.random.default_rng(5)
    X, _, _, _ = _separated(rng, 3000, 64, 8)
    assert_same_start_fit_as_sklearn(X, 8)


def _pass(fn, X, w, means, U, const, centre):
    k, d = means.shape
    nk, s1, s2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d))
    return fn(X, w, means, U, const, centre, nk, s1, s2, True), nk, s1, s2


@pytest.mark.parametrize("case", ["separated", "overlapping", "separated, then overlapping"])
def test_below_the_blas_width_passes_start_pruned_and_hand_over_to_the_loops(case):
    """From ``PRUNE_MIN_FEATURES`` to ``BLAS_MIN_FEATURES`` features (float64), ``full_fused``
    starts in BLAS and hands the loops the rows from the first block where pruning does not pay:
    all rows on separated data, one block on overlapping data, the first part on data that
    turn overlapping. Every way, the loops' results to 1e-12, with weights."""
    full = pytest.importorskip("emix._kernels.numba_full")
    from emix._kernels.numba_blas import BLAS_BLOCK
    from emix._kernels.numba_full_blas import blas_rows

    rng = np.random.default_rng(11)
    n, d, k = 1500, full.PRUNE_MIN_FEATURES + 8, 8
    assert d < full.BLAS_MIN_FEATURES
    X, means, U, const = _separated(rng, n, d, k, between=0.0)
    if case != "separated":  # rows from no component in particular
        lo = 0 if case == "overlapping" else 3 * BLAS_BLOCK
        X[lo:] = means.mean(axis=0) + rng.normal(scale=8.0, size=(n - lo, d))
    w = rng.uniform(0.0, 3.0, size=n)
    centre = means + rng.normal(scale=0.3, size=means.shape)
    assert full._prunes_first(X, U) and not full.uses_blas(X, U)
    _, done = _pass(lambda *a: blas_rows(*a, True), X, w, means, U, const, centre)[0]
    assert done == {"separated": n, "overlapping": BLAS_BLOCK}.get(case, done)
    if case == "separated, then overlapping":
        assert 3 * BLAS_BLOCK < done < n
    fused = _pass(full.full_fused, X, w, means, U, const, centre)
    loops = _pass(full._full_loops, X, w, means, U, const, centre)
    assert fused[0] == pytest.approx(loops[0], rel=1e-12)
    scale = float(np.abs(X).max()) * w.sum()
    for a, b, s in zip(fused[1:], loops[1:], (1.0, scale, scale * float(np.abs(X).max()))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * s)
    np.testing.assert_array_equal(fused[3], np.swapaxes(fused[3], 1, 2))


def test_fits_below_the_blas_width_follow_sklearn():
    """Eight iterations at D = 48, K = 8 on separated blobs (passes that start pruned) from
    scikit-learn's start: scikit-learn's path, to 1e-12."""
    rng = np.random.default_rng(8)
    X, _, _, _ = _separated(rng, 3000, 48, 8)
    assert_same_start_fit_as_sklearn(X, 8)
