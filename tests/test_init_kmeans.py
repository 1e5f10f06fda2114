"""The k-means starts' passes (emix.init.kmeans, emix.init.sampling, emix._kernels.numba_init).

Greedy k-means++ does a step's choice and the next step's draw in one pass
(``_potentials_and_next``); these tests hold it to the plain two-pass
algorithm written out here, and the compiled distances and key draws to the
NumPy ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emix import _kernels
from emix.init import kmeans_plusplus
from emix.init.base import nearest_sq, reference_point, sq_dist, sq_to
from emix.init.kmeans import _lloyd_chunk
from emix.init.sampling import min_keys, streaming_choice
from emix.sources import ArraySource

needs_numba = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")


def _two_pass_kmeans_plusplus(source, k, rng, trials):
    """Greedy k-means++ as Arthur and Vassilvitskii and scikit-learn state it: per step, one
    pass draws ``trials`` candidates by squared distance, a second computes each one's
    potential; the lowest is kept."""
    shift = reference_point(source)
    X, w = source.X, source.sample_weight
    base = np.ones(len(X)) if w is None else w

    def weights(C):
        return lambda Xc, wc: nearest_sq(Xc, C, shift)[0] * (np.ones(len(Xc)) if wc is None else wc)

    centres = [streaming_choice(source, rng, lambda Xc, wc: np.ones(len(Xc)) if wc is None else wc)]
    for _ in range(1, k):
        C = np.asarray(centres, dtype=np.float64)
        cands = streaming_choice(source, rng, weights(C), size=trials)
        closest = nearest_sq(X, C, shift)[0]
        pot = base @ np.minimum(sq_to(X, cands, shift), closest[:, None])
        centres.append(cands[int(np.argmin(pot))])
    return np.asarray(centres)


@pytest.mark.parametrize("use_numba", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k,trials", [(2, 3), (5, 3), (8, 4), (6, 2)])
def test_one_pass_steps_draw_what_two_passes_draw(use_numba, weighted, k, trials):
    if use_numba and not _kernels.numba_available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(k * 10 + trials)
    X = rng.normal(size=(3000, 3)) + rng.integers(0, 4, size=(3000, 1)) * 4.0
    w = rng.uniform(0.1, 3.0, size=3000) if weighted else None
    with _kernels.use_numba(use_numba):
        for seed in range(3):
            got = kmeans_plusplus(
                ArraySource(X, w, 700), k, np.random.default_rng(seed), n_local_trials=trials
            )
            want = _two_pass_kmeans_plusplus(ArraySource(X, w, 3000), k, np.random.default_rng(seed), trials)
            np.testing.assert_array_equal(got, want)


@needs_numba
def test_kmeans_plusplus_after_a_failed_draw():
    """Rows that all coincide with the seeds (zero weights everywhere) fall back to uniform
    draws and then draw candidates again, as the two-pass algorithm does."""
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 50, axis=0)
    for seed in range(5):
        got = kmeans_plusplus(ArraySource(X, None, 30), 4, np.random.default_rng(seed))
        assert got.shape == (4, 2) and np.isfinite(got).all()
        assert {tuple(r) for r in got} == {(0.0, 0.0), (5.0, 5.0)}


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d,k", [(1, 1), (2, 3), (16, 8), (64, 16)])
def test_compiled_distances_equal_numpy(dtype, d, k):
    rng = np.random.default_rng(d + k)
    X = (rng.normal(size=(700, d)) * 3.0 + 100.0).astype(dtype)
    C = X[rng.choice(700, k, replace=False)].astype(np.float64) + 0.25
    shift = X[0]
    want = np.square(X.astype(np.float64)[:, None, :] - C[None]).sum(axis=2)
    got = sq_to(X, C, shift)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * d)
    d2, labels = nearest_sq(X, C, shift)
    np.testing.assert_array_equal(labels, want.argmin(axis=1))
    np.testing.assert_allclose(d2, want.min(axis=1), rtol=1e-12, atol=1e-12 * d)
    with _kernels.use_numba(False):  # NumPy: around the shift, in the data's dtype
        d2_np, labels_np = nearest_sq(X, C, shift)
        tol = 1e-9 if dtype == np.float64 else 1e-3
        np.testing.assert_allclose(d2_np, want.min(axis=1), rtol=tol, atol=tol * d)
        np.testing.assert_allclose(sq_dist(X, C, shift), want, rtol=tol, atol=tol * d)
    assert (labels_np == labels).mean() > 0.99


@needs_numba
@pytest.mark.parametrize("weighted", [False, True])
def test_compiled_lloyd_pass_equals_numpy(weighted):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 5)) * 2.0 + 50.0
    w = rng.uniform(0.0, 2.0, size=900) if weighted else None
    shift = X[0]
    cs = X[:4] + 0.1 - shift
    counts, sums = _lloyd_chunk(X, w, cs, shift)
    with _kernels.use_numba(False):
        counts_np, sums_np = _lloyd_chunk(X, w, cs, shift)
    np.testing.assert_allclose(counts, counts_np, rtol=1e-12)
    np.testing.assert_allclose(sums, sums_np, rtol=1e-10, atol=1e-10)
    labels = np.square(X[:, None, :] - (cs + shift)[None]).sum(axis=2).argmin(axis=1)
    ww = np.ones(900) if w is None else w
    np.testing.assert_allclose(counts, np.bincount(labels, ww, minlength=4), rtol=1e-12)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    t=st.integers(1, 4),
    m=st.integers(1, 4),
    zeros=st.floats(0.0, 1.0),
    ties=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_compiled_key_draw_equals_numpy(n, t, m, zeros, ties, seed):
    """The same keys and rows, zero weights never winning and ties going to the first row."""
    rng = np.random.default_rng(seed)
    u = rng.random((n, t))
    if ties:
        u[:] = u[0]
    W = rng.uniform(0.5, 2.0, size=(n, m)) if not ties else np.ones((n, m))
    W[rng.random((n, m)) < zeros] = 0.0
    keys, rows = min_keys(u, W)
    with _kernels.use_numba(False):
        keys_np, rows_np = min_keys(u, W)
    np.testing.assert_array_equal(keys, keys_np)
    dead = np.isinf(keys)
    np.testing.assert_array_equal(rows[~dead], rows_np[~dead])
    np.testing.assert_array_equal(dead, ~(W > 0).any(axis=0)[:, None].repeat(t, axis=1))
