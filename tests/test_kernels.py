"""The optional numba kernels against the NumPy kernels, the switch, and greedy k-means++."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import stable_seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emix import _kernels
from emix.estimators.gaussian import GaussianMixture
from emix.families.gaussian import COVARIANCE_MODELS, get_covariance_model
from emix.init import kmeans_plusplus
from emix.sources import ArraySource

needs_numba = pytest.mark.skipif(not _kernels.numba_available(), reason="numba is not installed")
COV_TYPES = ("full", "tied", "diag", "spherical")


def _problem(rng, n, d, k, cov, dtype, weighted, lower=False):
    """Data, weights and parameters of a random chunk-level problem (float64 parameters cast to dtype)."""
    X = (rng.normal(size=(n, d)) * 2.0 + 10.0).astype(dtype)
    w = rng.uniform(0.0, 3.0, size=n).astype(dtype) if weighted else None
    means = (rng.normal(size=(k, d)) + 10.0).astype(dtype)
    log_weights = np.log(rng.dirichlet(np.ones(k)))
    centre = (means + rng.normal(scale=0.3, size=(k, d))).astype(dtype)
    if cov in ("full", "tied"):
        pcs = []
        for _ in range(1 if cov == "tied" else k):
            a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
            S = a @ a.T
            # upper U = inv(chol(S))^T (scikit-learn's factor), or lower L = chol(inv(S)); both P = F F^T
            pcs.append(
                np.linalg.cholesky(np.linalg.inv(S)) if lower else np.linalg.inv(np.linalg.cholesky(S)).T
            )
        pc = np.stack(pcs) if cov == "full" else pcs[0]
    elif cov == "diag":
        pc = rng.uniform(0.5, 2.0, size=(k, d))
    else:
        pc = rng.uniform(0.5, 2.0, size=k)
    return X, w, log_weights, means, pc.astype(dtype), centre


def _fused(cov, use, X, w, log_weights, means, pc, centre):
    """The model's fused result; for ``spherical`` with ``s2`` summed over the features (K, 1):
    the compiled kernel splits that scalar over the features (``emix._kernels.numba_axis``), the
    NumPy kernel keeps per-feature sums, and the M-step reads only the total."""
    with _kernels.use_numba(use):
        nk, s1, s2, ll = get_covariance_model(cov).fused(X, w, log_weights, means, pc, centre)
    if cov == "spherical":
        s2 = s2.sum(axis=1, keepdims=True)
    return nk, s1, s2, ll


def _assert_close(a, b, X, centre, rtol):
    nk_a, s1_a, s2_a, ll_a = a
    nk_b, s1_b, s2_b, ll_b = b
    spread = float(np.abs(X.astype(np.float64)[:, None, :] - centre.astype(np.float64)[None]).max())
    n = X.shape[0] * 3.0  # weights are below 3
    np.testing.assert_allclose(nk_a, nk_b, rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(s1_a, s1_b, rtol=rtol, atol=rtol * n * spread)
    np.testing.assert_allclose(s2_a, s2_b, rtol=rtol, atol=rtol * n * spread**2)
    assert abs(ll_a - ll_b) <= rtol * max(abs(ll_b), 1.0)


def _chunked(cov, use, X, w, log_weights, means, pc, centre, step):
    """Sum of the fused results over chunks of ``step`` rows."""
    total = None
    for i in range(0, X.shape[0], step):
        part = _fused(
            cov, use, X[i : i + step], None if w is None else w[i : i + step], log_weights, means, pc, centre
        )
        total = part if total is None else tuple(p + q for p, q in zip(total, part))
    return total


@needs_numba
@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(300, 3, 4), (257, 1, 3), (129, 5, 1), (1000, 16, 8)])
def test_numba_equals_numpy_float64(cov, weighted, shape):
    n, d, k = shape
    rng = np.random.default_rng(stable_seed(cov, weighted, shape))
    args = _problem(rng, n, d, k, cov, np.float64, weighted)
    _assert_close(_fused(cov, True, *args), _fused(cov, False, *args), args[0], args[5], 1e-12)


@needs_numba
@pytest.mark.parametrize("cov", ["full", "tied"])
@pytest.mark.parametrize("d", [4, 16])
def test_numba_lower_triangular_factor(cov, d):
    """Precision factors from ``precisions_init`` are lower triangular: the general product is used
    (at D = 4 and D = 16)."""
    rng = np.random.default_rng(3)
    args = _problem(rng, 200, d, 3, cov, np.float64, True, lower=True)
    _assert_close(_fused(cov, True, *args), _fused(cov, False, *args), args[0], args[5], 1e-12)


@needs_numba
@pytest.mark.parametrize("cov", COV_TYPES)
def test_numba_float32(cov):
    rng = np.random.default_rng(11)
    args = _problem(rng, 500, 3, 4, cov, np.float32, True)
    with _kernels.use_numba(True):
        kern = _kernels.kernels_for(cov, args[0])
    _assert_close(_fused(cov, True, *args), _fused(cov, False, *args), args[0], args[5], 2e-5)
    wide = tuple(None if a is None else np.asarray(a, np.float64) for a in args)
    if kern is not None and cov in ("full", "tied"):
        # these kernels compute in float64: equal to the float64 NumPy kernel on the same values
        _assert_close(_fused(cov, True, *args), _fused(cov, False, *wide), args[0], args[5], 1e-12)
    elif kern is not None:
        # diag/spherical compute the densities in float32 (block sums in float32, float64 across
        # blocks): within float32 rounding of the float64 answer, like NumPy's float32 kernel
        _assert_close(_fused(cov, True, *args), _fused(cov, False, *wide), args[0], args[5], 2e-5)


@needs_numba
@pytest.mark.parametrize("cov", ["diag", "spherical"])
def test_numba_float32_axis_aligned_large_chunk(cov):
    """The float32-inside kernel at D >= 8 (where it is used) stays within float32 rounding."""
    rng = np.random.default_rng(5)
    args = _problem(rng, 5000, 16, 8, cov, np.float32, False)
    with _kernels.use_numba(True):
        assert _kernels.kernels_for(cov, args[0]) is not None
    wide = tuple(None if a is None else np.asarray(a, np.float64) for a in args)
    _assert_close(_fused(cov, True, *args), _fused(cov, False, *wide), args[0], args[5], 2e-5)


@needs_numba
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cov=st.sampled_from(COV_TYPES),
    n=st.integers(1, 400),
    d=st.integers(1, 6),
    k=st.integers(1, 5),
    weighted=st.booleans(),
    step=st.integers(1, 300),
    seed=st.integers(0, 2**31 - 1),
)
def test_numba_chunking_property(cov, n, d, k, weighted, step, seed):
    """Any chunking through numba equals one NumPy call (sums of parts = whole)."""
    rng = np.random.default_rng(seed)
    args = _problem(rng, n, d, k, cov, np.float64, weighted)
    _assert_close(_chunked(cov, True, *args, step), _fused(cov, False, *args), args[0], args[5], 1e-11)


@needs_numba
def test_numba_exp_accuracy():
    from emix._kernels import numba_gaussian as _numba_kernels

    x = np.concatenate([-np.linspace(0.0, 745.0, 20001), [-np.inf, -800.0, -0.0]])
    got = _numba_kernels.exp_nonpositive(x)
    want = np.exp(x)
    big = x >= -708.0
    assert np.all(np.abs(got[big] - want[big]) <= 4e-16 * want[big])
    assert np.all(got[~big] <= 1e-307)
    assert got[-3] == 0.0 and got[-4] == 0.0


@needs_numba
def test_numba_log_accuracy():
    """The normalisation's vectorised logarithm is within 1 ulp of NumPy's on the row sums it
    takes (1 to K), across the whole normal range, next to the reduction's edges (powers of
    two, sqrt(2)) and next to 1; log(0) is -inf and log(1) is 0."""
    from emix._kernels import numba_gaussian as _numba_kernels

    rng = np.random.default_rng(0)
    r2 = np.sqrt(2.0)
    edges = [1.0, 2.0, 0.5, 2.0**-1022, np.finfo(float).max, r2, np.nextafter(r2, 3), np.nextafter(r2, 0)]
    x = np.concatenate(
        [rng.uniform(1.0, 64.0, 200_000), np.exp(rng.uniform(-700, 700, 200_000)),
         1.0 + rng.uniform(-1e-6, 1e-6, 20_000), 2.0 ** np.arange(-1022, 1023), edges]
    )  # fmt: skip
    got = _numba_kernels.log_nonnegative(np.append(x, 0.0))
    want = np.log(x)
    assert got[-1] == -np.inf and got[len(x) - len(edges)] == 0.0
    ulp = np.spacing(np.abs(want))
    ulp[want == 0.0] = np.spacing(0.0)
    assert np.all(np.abs(got[:-1] - want) <= ulp)


@needs_numba
@pytest.mark.parametrize("offset", [0.0, 1e5])
def test_full_loops_product_densities_keep_far_components_exact(offset):
    """The full loops' densities as one product about the means' centre, ``(x - g) U - (mu - g)
    U``: components 1000 standard deviations apart, around 0 or 1e5, give the NumPy kernel's
    log-likelihood and statistics to 1e-12 (``GEMM_MIN_FEATURES`` features and more), and so do
    the plain loops below that."""
    from emix._kernels import numba_full

    for d in (numba_full.GEMM_MIN_FEATURES - 1, numba_full.GEMM_MIN_FEATURES, 12):
        rng = np.random.default_rng(d)
        k = 3
        means = offset + 1000.0 * rng.normal(size=(k, d))
        labels = rng.integers(k, size=600)
        X = means[labels] + rng.normal(size=(600, d)) @ rng.normal(size=(d, d)) * 0.3
        pc = np.stack([np.linalg.cholesky(np.linalg.inv(np.cov(X[labels == c].T))) for c in range(k)])
        args = (X, None, np.log(np.full(k, 1 / k)), means + 0.1, pc, means)
        _assert_close(_fused("full", True, *args), _fused("full", False, *args), X, means, 1e-12)


@needs_numba
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6, 7, 9, 16, 17])
def test_full_loops_scatter_blocks_cover_the_lower_triangle(d):
    """The full and tied loops' scatter, two rows by four columns at a time, adds every ``b <= a`` sum
    once, for odd and even D and partial blocks (D = 1 to 17), and touches no entry above
    the first superdiagonal."""
    from emix._kernels import numba_blocks

    rng = np.random.default_rng(d)
    nr = 100
    rd, diff = rng.normal(size=(d, 128)), rng.normal(size=(d, 128))
    out = np.full((d, d), 1.0)
    numba_blocks.add_scatter_lower(rd, diff, nr, out)
    want = 1.0 + rd[:, :nr] @ diff[:, :nr].T
    lower = np.tril_indices(d)
    np.testing.assert_allclose(out[lower], want[lower], rtol=1e-13, atol=1e-13 * nr)
    assert np.all(np.triu(out, 2)[np.triu_indices(d, 2)] == 1.0)


@needs_numba
def test_zero_weight_component_numba():
    """A component with weight 0 (log weight -inf) gets no responsibility, as in NumPy."""
    rng = np.random.default_rng(2)
    X, w, lw, means, pc, centre = _problem(rng, 100, 2, 3, "diag", np.float64, False)
    lw = lw.copy()
    lw[1] = -np.inf
    a = _fused("diag", True, X, w, lw, means, pc, centre)
    b = _fused("diag", False, X, w, lw, means, pc, centre)
    assert a[0][1] == 0.0
    _assert_close(a, b, X, centre, 1e-12)


def test_switch_and_environment():
    with _kernels.use_numba(False):
        assert _kernels.kernels() is None
        assert _kernels.kernels_for("full", np.zeros((2, 2))) is None
    if _kernels.numba_available():
        with _kernels.use_numba(True):
            assert _kernels.kernels() is not None
    import os
    import subprocess

    code = "from emix import _kernels; print(_kernels.kernels() is None)"
    env = dict(os.environ, EMIX_NUMBA="0", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_fallback_without_numba(monkeypatch):
    """With numba not importable the NumPy kernels run and the fit is the same."""
    X = np.random.default_rng(0).normal(size=(400, 2))
    X[:200] += 6.0
    ref = GaussianMixture(2, random_state=0).fit(X)
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "emix._kernels.numba_gaussian", raising=False)
    monkeypatch.delattr(_kernels, "numba_gaussian", raising=False)
    monkeypatch.setattr(_kernels, "_loaded", [])
    assert _kernels.kernels() is None
    assert not _kernels.numba_available()
    gm = GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-10)
    assert gm.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=1e-12)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_fit_same_with_and_without_numba(cov):
    """Converged default fits (three separated clusters): the NumPy and numba paths, in
    different chunks, stop at the same pass on the same optimum."""
    X = np.random.default_rng(1).normal(size=(3000, 3))
    X[:1000] += 5.0
    X[1000:2000, 0] -= 5.0
    with _kernels.use_numba(False):
        a = GaussianMixture(3, covariance_type=cov, random_state=0, chunk_size=700).fit(X)
    with _kernels.use_numba(True):
        b = GaussianMixture(3, covariance_type=cov, random_state=0, chunk_size=1100).fit(X)
    assert a.converged_ and b.converged_ and a.n_iter_ == b.n_iter_
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-7, atol=1e-7)


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")  # tol=0: runs max_iter
@pytest.mark.parametrize("cov", COV_TYPES)
def test_fixed_passes_same_with_and_without_numba(cov):
    """On a slow ridge (three components for two clusters) a fit that stops there is not a
    comparison of the kernels: a SQUAREM step kept on one path and rejected on the other, for
    a difference at rounding level, left the means 2e-7 to 4e-6 apart after max_iter=100 (tied,
    diag, spherical). So: 40 plain passes, equal to 1e-10."""
    X = np.random.default_rng(1).normal(size=(3000, 3))
    X[:1000] += 5.0
    kw = dict(covariance_type=cov, random_state=0, accelerate=False, tol=0, max_iter=40)
    with _kernels.use_numba(False):
        a = GaussianMixture(3, chunk_size=700, **kw).fit(X)
    with _kernels.use_numba(True):
        b = GaussianMixture(3, chunk_size=1100, **kw).fit(X)
    assert a.n_iter_ == b.n_iter_ == 40
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-10, atol=1e-10)


def test_subclasses_keep_generic_path():
    """mclust models that override log_prob/scatter do not get the built-in fast kernels."""
    for cls in COVARIANCE_MODELS.values():
        model = cls()
        owner = next(c for c in type(model).__mro__ if "_fused_fast" in c.__dict__)
        if model._fast_kernel_applies():
            assert type(model).log_prob is owner.log_prob and type(model).scatter is owner.scatter


# -- greedy k-means++ -----------------------------------------------------------------------


def _separated(seed, n=3000, d=5, k=3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.0, size=(k, d))
    centres *= 8.0 / np.linalg.norm(centres[:, None] - centres[None], axis=-1).max()
    centres += np.arange(k)[:, None] * 6.0
    labels = rng.integers(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d)), labels


@pytest.mark.parametrize("seed", range(5))
def test_default_init_finds_separated_clusters(seed):
    X, labels = _separated(seed)
    gm = GaussianMixture(3, n_init=1, random_state=seed).fit(X)
    pred = gm.predict(X)
    # the same partition up to a relabelling
    table = np.zeros((3, 3), dtype=int)
    np.add.at(table, (labels, pred), 1)
    assert (table.max(axis=1) >= 0.99 * table.sum(axis=1)).all()
    assert len(set(table.argmax(axis=1))) == 3


def test_greedy_kmeanspp_chunk_and_thread_independent():
    from emix.engine.pool import ChunkPool

    X, _ = _separated(7, n=2000, d=3, k=4)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=X.shape[0])
    ref = kmeans_plusplus(ArraySource(X, w, 2000), 4, np.random.default_rng(3))
    for chunk, jobs in ((137, 1), (500, 2)):
        with ChunkPool(jobs) as pool:
            got = kmeans_plusplus(ArraySource(X, w, chunk), 4, np.random.default_rng(3), pool)
        np.testing.assert_array_equal(got, ref)


def test_greedy_beats_plain_kmeanspp_potential():
    """Over several seeds the greedy seeds have a lower k-means potential than plain k-means++."""
    X, _ = _separated(4, n=2000, d=4, k=6)
    src = ArraySource(X, None, 512)

    def potential(c):
        return float(((X[:, None] - c[None]) ** 2).sum(-1).min(1).sum())

    greedy = [potential(kmeans_plusplus(src, 6, np.random.default_rng(s))) for s in range(8)]
    plain = [potential(kmeans_plusplus(src, 6, np.random.default_rng(s), n_local_trials=1)) for s in range(8)]
    assert np.mean(greedy) < np.mean(plain)


def test_kmeanspp_rejects_bad_trials():
    src = ArraySource(np.zeros((10, 2)), None, 10)
    with pytest.raises(ValueError, match="n_local_trials"):
        kmeans_plusplus(src, 2, np.random.default_rng(0), n_local_trials=0)
