"""The fast engine: fused kernels, threads, float32, the stopping rule and SQUAREM.

No timing asserts: speed is measured in ``benchmarks/``, correctness here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from emix.datasets import load_faithful
from emix.engine import ConvergenceMonitor, MixtureParams, e_pass, run_em
from emix.engine.pool import ChunkPool
from emix.estimators.gaussian import GaussianMixture
from emix.families.gaussian import COVARIANCE_MODELS, DiagCovariance, GaussianFamily
from emix.sources import ArraySource


@pytest.fixture
def squarem_on_small_data(monkeypatch):
    """SQUAREM itself on small data, which otherwise run plain EM first (issue 15)."""
    from emix.engine import driver

    monkeypatch.setattr(driver, "PLAIN_FIRST_MAX", 0)


COV_TYPES = ("full", "tied", "diag", "spherical")
pytestmark = pytest.mark.filterwarnings("ignore:Best of 1 initialisation")
FAITHFUL_TIED_OPT = -1126.315928


def _blobs(n=3000, d=3, k=3, offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(k, d)) + offset
    labels = rng.integers(0, k, size=n)
    X = centres[labels] + rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))
    return X


def _start(X, k, cov, seed=1):
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    means = X[rng.choice(X.shape[0], k, replace=False)]
    prec = {
        "full": np.tile(np.eye(d), (k, 1, 1)),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[cov]
    return {"weights_init": np.full(k, 1.0 / k), "means_init": means, "precisions_init": prec / X.var()}


def _params(X, k, cov, dtype=np.float64):
    gm = GaussianMixture(k, covariance_type=cov, max_iter=2, tol=0, accelerate=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    return gm._fitted_params(), gm._make_family()


def _spherical_sums(s2):
    """The part of a spherical model's ``s2`` (K, D) its M-step reads: the sum over the features
    (the compiled kernel splits that scalar over the features per call, see
    ``emix._kernels.numba_axis``; the NumPy kernels keep the per-feature sums)."""
    return s2.sum(axis=1)


def _assert_stats_close(a, b, rtol=1e-10, spherical=False):
    scale = max(1.0, float(np.abs(a.nk).max()))
    np.testing.assert_allclose(a.nk, b.nk, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(a.s1, b.s1, rtol=rtol, atol=rtol * scale * 10)
    s2a, s2b = (_spherical_sums(a.s2), _spherical_sums(b.s2)) if spherical else (a.s2, b.s2)
    np.testing.assert_allclose(s2a, s2b, rtol=rtol, atol=rtol * scale * 10 * a.s1.shape[1])


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_equals_generic(cov, weighted):
    X = _blobs(offset=1e3)  # large offset: centring must keep the digits
    params, family = _params(X, 3, cov)
    w = np.random.default_rng(3).uniform(0, 2, X.shape[0]) if weighted else None
    src = ArraySource(X, w, 700)
    fast = e_pass(src, family, params, fused=True)
    slow = e_pass(src, family, params, fused=False)
    assert fast.log_likelihood == pytest.approx(slow.log_likelihood, rel=1e-12)
    _assert_stats_close(fast.stats, slow.stats, rtol=1e-8, spherical=cov == "spherical")


# tol=0: exactly max_iter iterations
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cov", COV_TYPES)
def test_threaded_equals_single_thread(cov):
    X = _blobs(n=5000)
    params, family = _params(X, 3, cov)
    src = ArraySource(X, None, 512)
    single = e_pass(src, family, params)
    with ChunkPool(2) as pool:
        threaded = e_pass(src, family, params, pool=pool)
    assert threaded.log_likelihood == pytest.approx(single.log_likelihood, rel=1e-13)
    _assert_stats_close(threaded.stats, single.stats, rtol=1e-12)
    kw = dict(covariance_type=cov, tol=0, max_iter=15, chunk_size=512, **_start(X, 3, cov))
    a = GaussianMixture(3, n_jobs=1, **kw).fit(X)
    b = GaussianMixture(3, n_jobs=2, **kw).fit(X)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-12)


def test_subclass_overriding_density_does_not_inherit_fast_kernel():
    class ScaledDiag(DiagCovariance):  # a different density: must go through the generic path
        name = "_test_scaled_diag"

        def log_prob(self, X, means, prec_chol):
            return super().log_prob(X, means, prec_chol) - 1.0

    model = ScaledDiag()
    assert not model._fast_kernel_applies()
    assert DiagCovariance()._fast_kernel_applies()
    X = _blobs(n=500)
    params, _ = _params(X, 3, "diag")
    c = params.components
    nk, s1, s2, ll = model.fused(X, None, np.log(params.weights), c.means, c.precisions_cholesky, c.means)
    lj = model.log_prob(X, c.means, c.precisions_cholesky) + np.log(params.weights)
    m = lj.max(axis=1, keepdims=True)
    assert ll == pytest.approx(float((np.log(np.exp(lj - m).sum(axis=1)) + m[:, 0]).sum()), rel=1e-12)


class _ProtocolOnly:
    """A family with only the Family protocol (no fused path, no acceleration)."""

    name = "gaussian-protocol-only"

    def __init__(self, cov):
        self._g = GaussianFamily(cov, 1e-6)

    def log_prob(self, X, params):
        return self._g.log_prob(X, params)

    def anchor(self, params):
        return self._g.anchor(params)

    def anchor_from_centres(self, centres):
        return centres

    def accumulate(self, X, resp, anchor):
        return self._g.accumulate(X, resp, anchor)

    def m_step(self, stats, previous):
        return self._g.m_step(stats, previous)

    def n_parameters(self, params):
        return self._g.n_parameters(params)

    def sample(self, rng, params, counts):
        return self._g.sample(rng, params, counts)


@pytest.mark.parametrize("cov", ["full", "diag"])
def test_protocol_only_family_runs_unchanged(cov):
    X = _blobs(n=2000)
    params, family = _params(X, 3, cov)
    src = ArraySource(X, None, 300)
    plain = run_em(src, _ProtocolOnly(cov), params, max_iter=10, tol=0, accelerate=True, n_jobs=2)
    fast = run_em(src, family, params, max_iter=10, tol=0, accelerate=False, n_jobs=1)
    assert not any(plain.accelerated)
    np.testing.assert_allclose(plain.history, fast.history, rtol=1e-10)


# tol=0: exactly max_iter iterations
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cov", COV_TYPES)
def test_float32_end_to_end(cov):
    X = _blobs(n=4000, offset=50.0)
    kw = dict(covariance_type=cov, tol=0, max_iter=20, accelerate=False, **_start(X, 3, cov))
    a = GaussianMixture(3, **kw).fit(X)
    b = GaussianMixture(3, **kw).fit(X.astype(np.float32))
    for name in ("means_", "covariances_", "precisions_cholesky_"):
        assert getattr(b, name).dtype == np.float32
    assert b.history_[-1] == pytest.approx(a.history_[-1], rel=1e-5)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-3, atol=1e-3)
    if cov in ("diag", "spherical"):
        assert (b.covariances_ > 0).all()


@pytest.mark.parametrize("cov", COV_TYPES)
def test_sklearn_parity_without_acceleration(cov):
    sk = pytest.importorskip("sklearn.mixture")
    X = _blobs(n=2000)
    init = _start(X, 3, cov)
    a = sk.GaussianMixture(3, covariance_type=cov, tol=0, max_iter=12, **init)
    b = GaussianMixture(3, covariance_type=cov, tol=0, max_iter=12, accelerate=False, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.fit(X)
        b.fit(X)
    assert b.n_iter_ == a.n_iter_ == 12
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-6, atol=1e-9)
    assert b.history_[-2] == pytest.approx(a.lower_bound_ * X.shape[0], rel=1e-9)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_acceleration_is_monotone_and_reaches_plain_optimum(cov):
    X = _blobs(n=1500, k=3, seed=5)
    init = _start(X, 3, cov)
    kw = dict(covariance_type=cov, reg_covar=0.0, max_iter=5000, rtol=1e-12, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a decrease would warn with reg_covar=0
        acc = GaussianMixture(3, accelerate=True, **kw).fit(X)
        plain = GaussianMixture(3, accelerate=False, **kw).fit(X)
    h = acc.history_
    assert (np.diff(h) >= -1e-9 * np.abs(h[1:])).all()
    assert acc.accelerated_.shape == h.shape
    assert acc.accelerated_.dtype == bool
    assert acc.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-8)
    assert not plain.accelerated_.any()


def test_acceleration_on_slow_faithful_extrapolates_and_saves_passes(squarem_on_small_data):
    X = load_faithful()
    kw = dict(covariance_type="tied", random_state=0, max_iter=10_000)
    acc = GaussianMixture(3, accelerate=True, **kw).fit(X)
    plain = GaussianMixture(3, accelerate=False, **kw).fit(X)
    assert acc.accelerated_.any()
    assert acc.n_iter_ < plain.n_iter_
    assert (np.diff(acc.history_) >= -1e-9 * abs(acc.history_[-1])).all()


@pytest.mark.parametrize("accelerate", [False, True])
def test_faithful_tied_reaches_optimum_with_default_rule(accelerate):
    X = load_faithful()
    gm = GaussianMixture(3, covariance_type="tied", random_state=0, max_iter=10_000, accelerate=accelerate)
    gm.fit(X)
    assert gm.converged_
    assert gm.log_likelihood_ == pytest.approx(FAITHFUL_TIED_OPT, rel=1e-6)


def test_sklearn_rule_stops_early_on_the_faithful_ridge():
    X = load_faithful()
    gm = GaussianMixture(3, covariance_type="tied", random_state=0, convergence="sklearn", accelerate=False)
    gm.fit(X)
    assert gm.converged_
    assert gm.n_iter_ < 20
    assert gm.log_likelihood_ < FAITHFUL_TIED_OPT - 1.0  # stopped on the ridge, far from the optimum


def test_monitor_does_not_stop_on_a_slow_ridge():
    n = 1000.0
    slow = ConvergenceMonitor(1e-3, n, rule="aitken", rtol=1e-8)
    fast = ConvergenceMonitor(1e-3, n, rule="aitken", rtol=1e-8)
    for t in range(200):
        slow.record(-1000.0 - 5.0 * 0.999**t)  # changes ~5e-3 and shrinking slowly
        fast.record(-1000.0 - 5.0 * 0.2**t)
    assert not slow.converged  # remaining gain ~ 4: far from the limit
    assert fast.converged
    sk = ConvergenceMonitor(1e-3, n, rule="sklearn")
    for t in range(200):
        sk.record(-1000.0 - 5.0 * 0.999**t)
    assert sk.converged  # scikit-learn's rule stops on the ridge


def test_tol_zero_runs_max_iter_under_both_rules():
    X = _blobs(n=500)
    for rule in ("aitken", "sklearn"):
        gm = GaussianMixture(3, tol=0, max_iter=7, convergence=rule, accelerate=False, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(X)
        assert gm.n_iter_ == 7
        assert len(gm.history_) == 8


@pytest.mark.parametrize("cov", COV_TYPES)
def test_free_parameterisation_round_trip(cov):
    X = _blobs(n=500)
    params, family = _params(X, 3, cov)
    vec = family.to_vector(params.components)
    back = family.from_vector(vec, params.components)
    np.testing.assert_allclose(back.means, params.components.means, rtol=1e-12)
    np.testing.assert_allclose(back.covariances, params.components.covariances, rtol=1e-10, atol=1e-12)
    # any vector maps to valid covariances: a wild one still gives positive definite matrices
    wild = family.from_vector(vec * 3.0 - 1.0, params.components)
    model = COVARIANCE_MODELS[cov]()
    for j in range(3):
        c = model.component_covariance(wild.covariances, j, X.shape[1])
        assert np.linalg.eigvalsh(c).min() > 0


def test_extrapolated_weights_stay_on_simplex(squarem_on_small_data):
    X = load_faithful()
    gm = GaussianMixture(3, covariance_type="full", random_state=0, max_iter=10_000).fit(X)
    assert gm.accelerated_.any()
    assert (gm.weights_ > 0).all()
    assert gm.weights_.sum() == pytest.approx(1.0, abs=1e-12)


def test_params_validation():
    X = _blobs(n=100)
    from emix.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="convergence must be one of"):
        GaussianMixture(2, convergence="never").fit(X)
    with pytest.raises(InvalidParameterError, match="accelerate must be a bool"):
        GaussianMixture(2, accelerate="yes").fit(X)
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        GaussianMixture(2, n_jobs=0).fit(X)


def test_mixture_params_unchanged_by_pass():
    X = _blobs(n=300)
    params, family = _params(X, 3, "full")
    before = params.components.means.copy()
    e_pass(ArraySource(X, None, 64), family, MixtureParams(params.weights, params.components))
    np.testing.assert_array_equal(before, params.components.means)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++"])
def test_threaded_initialisation_equals_single_thread(init_params):
    X = _blobs(n=4000, k=4, seed=7)
    kw = dict(init_params=init_params, random_state=0, chunk_size=300, max_iter=0)
    a = GaussianMixture(4, n_jobs=1, **kw).fit(X)
    b = GaussianMixture(4, n_jobs=2, **kw).fit(X)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-12)


def test_constrained_subclass_without_own_free_coordinates_runs_plain_em():
    from emix.families.gaussian import FullCovariance

    class EqualVolumeLike(FullCovariance):  # changes the M-step: parent's coordinates do not apply
        name = "_test_constrained_full"

        def covariance(self, stats, nk, reg):
            cov = super().covariance(stats, nk, reg)
            return np.broadcast_to(cov.mean(axis=0), cov.shape).copy()

    assert FullCovariance().supports_acceleration
    assert not EqualVolumeLike().supports_acceleration


# -- round 3: batched small-matrix Cholesky, repair counting, two-pass SQUAREM -------------------


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("d", [1, 2, 3, 8])
def test_precision_cholesky_batch_equals_scipy(numba, d):
    from emix import _kernels
    from emix._linalg import cholesky_lower, precision_cholesky_batch, precision_cholesky_from_covariance

    rng = np.random.default_rng(d)
    a = rng.normal(size=(4, d, d))
    cov = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(d)
    ref = np.stack([precision_cholesky_from_covariance(cholesky_lower(c)) for c in cov])
    with _kernels.use_numba(numba):
        got = precision_cholesky_batch(cov)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert not np.tril(got, -1).any()  # exactly upper triangular, as the kernels expect
    for c, u in zip(cov, got):
        np.testing.assert_allclose(u @ u.T @ c, np.eye(d), atol=1e-10)


@pytest.mark.parametrize("numba", [True, False])
def test_precision_cholesky_batch_refuses_singular_and_non_finite(numba):
    from emix import _kernels
    from emix._linalg import precision_cholesky_batch

    good = np.eye(3)
    singular = np.ones((3, 3))
    with _kernels.use_numba(numba):
        assert precision_cholesky_batch(np.stack([good, singular])) is None
        assert precision_cholesky_batch(np.stack([good, np.full((3, 3), np.nan)])) is None
        assert precision_cholesky_batch(np.stack([good, -good])) is None
        assert precision_cholesky_batch(np.stack([good, good])) is not None


def test_repair_count_tells_repaired_m_steps_without_catching_warnings():
    from emix.engine.passes import m_step_noting_repairs
    from emix.families.gaussian import GaussianStats

    fam = GaussianFamily("full", reg_covar=0.0)
    X = _blobs(n=200, d=2, k=2)
    X[:, 1] = 3.0  # a constant feature: singular covariances, repaired with jitter
    resp = np.zeros((200, 2))
    resp[:100, 0] = 1.0
    resp[100:, 1] = 1.0
    stats = fam.accumulate(X, resp, np.zeros((2, 2)))
    assert isinstance(stats, GaussianStats)
    prev = MixtureParams(np.full(2, 0.5), None)
    with pytest.warns(Warning, match="not positive definite"):
        _, repaired = m_step_noting_repairs(fam, stats, prev)
    assert repaired
    good = fam.accumulate(_blobs(n=200, d=2, k=2), resp, np.zeros((2, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, repaired = m_step_noting_repairs(fam, good, prev)
    assert not repaired


def test_repair_count_is_none_for_models_outside_the_built_in_four():
    from emix.families.gaussian import FullCovariance

    class Constrained(FullCovariance):
        def covariance(self, stats, nk, reg):
            return super().covariance(stats, nk, reg)

    fam = GaussianFamily("full")
    assert isinstance(fam.repair_count(), int)
    fam.model = Constrained()
    assert fam.repair_count() is None  # the driver then watches the warnings

    class OwnMStep(GaussianFamily):
        def m_step(self, stats, previous):
            return super().m_step(stats, previous)

    assert OwnMStep("diag").repair_count() is None


@pytest.mark.filterwarnings("ignore:Best performing initialization")
@pytest.mark.parametrize("cov", ["tied", "full"])
def test_two_pass_squarem_reaches_the_faithful_optimum_in_fewer_passes(cov, squarem_on_small_data):
    """Old Faithful from scikit-learn's one-iteration start: the issue's time-to-optimum case."""
    from sklearn.mixture import GaussianMixture as SkGM

    X = np.asarray(load_faithful(), dtype=np.float64)
    seed = SkGM(3, covariance_type=cov, max_iter=1, random_state=0).fit(X)
    init = {"weights_init": seed.weights_, "means_init": seed.means_, "precisions_init": seed.precisions_}
    ref = SkGM(3, covariance_type=cov, tol=1e-12, max_iter=100_000, **init).fit(X)
    opt = ref.lower_bound_ * X.shape[0]
    acc = GaussianMixture(3, covariance_type=cov, max_iter=10_000, **init).fit(X)
    plain = GaussianMixture(3, covariance_type=cov, max_iter=10_000, accelerate=False, **init).fit(X)
    assert acc.converged_
    assert acc.log_likelihood_ == pytest.approx(opt, rel=1e-6)
    assert (np.diff(acc.history_) >= -1e-9 * abs(opt)).all()
    assert acc.n_iter_ < 0.6 * plain.n_iter_
    # a rejected extrapolation costs a pass that is not in the history
    assert len(acc.history_) <= acc.n_iter_ + 1


def test_aitken_rule_needs_five_plain_entries_after_an_extrapolated_point():
    """Three changes after the first step from an extrapolated point: two rates to compare."""
    mon = ConvergenceMonitor(1e-3, 100.0, rule="aitken", rtol=1e-8)
    mon.record(-200.0, plain=False, accelerated=True)
    for value in (-199.99999999, -199.999999989, -199.9999999889):
        mon.record(value, plain=True)
        assert not mon.converged  # the run is too short for two rates
        assert mon.settling  # change within the threshold, run too short: take a plain step
    mon.record(-199.99999998889, plain=True)
    assert mon.converged  # changes 1e-9, 1e-10, 1e-11: a steady rate of 0.1
    assert not mon.settling


def test_aitken_rule_does_not_stop_while_the_rate_still_rises():
    """After an extrapolation a fast mode decays first: the rate of the last two changes is then
    below EM's asymptotic rate and Aitken's estimate of the gain to come is too small."""
    n = 1000.0
    slow, fast = 0.99, 0.3  # a slow mode, and a fast one an extrapolation excited
    values = [-1000.0 - 1e-3 * slow**t - 1e-4 * fast**t for t in range(5)]
    mon = ConvergenceMonitor(1e-3, n, rule="aitken", rtol=1e-6)
    for v in values:
        mon.record(v)
    d = np.diff(values)
    rho = d[-1] / d[-2]
    assert d[-1] * rho / (1.0 - rho) < 1e-6 * 1000.0  # the old two-change estimate would stop
    assert not mon.converged  # the rates 0.39, 0.52, 0.72 still rise
    steady = ConvergenceMonitor(1e-3, n, rule="aitken", rtol=1e-6)
    for t in range(5):
        steady.record(-1000.0 - 1e-6 * 0.5**t)  # one mode: rates equal
    assert steady.converged


# tol=0, max_iter=1: one iteration by design
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cov", COV_TYPES)
def test_prepare_pass_equals_e_step_accumulate(cov, dtype):
    """Per-pass constants computed once give the per-chunk values, chunk after chunk."""
    X = _blobs(n=700, d=5, k=3, offset=50.0).astype(dtype)
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=700).astype(dtype)
    fam = GaussianFamily(cov)
    init = _start(X, 3, cov)
    gm = GaussianMixture(3, covariance_type=cov, max_iter=1, tol=0, **init).fit(X)
    from emix.families.gaussian import GaussianParams

    params = GaussianParams(
        means=gm.means_.astype(dtype),
        covariances=gm.covariances_.astype(dtype),
        precisions_cholesky=gm.precisions_cholesky_.astype(dtype),
    )
    log_w = np.log(gm.weights_)
    anchor = params.means
    run = fam.prepare_pass(log_w, params, anchor)
    for lo, hi in ((0, 300), (300, 700)):
        a, lla = run(X[lo:hi], w[lo:hi])
        b, llb = fam.e_step_accumulate(X[lo:hi], w[lo:hi], log_w, params, anchor)
        for f in ("nk", "s1", "s2"):
            got, want = getattr(a, f), getattr(b, f)
            if f == "s2" and cov == "spherical":
                got, want = _spherical_sums(got), _spherical_sums(want)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
        assert lla == pytest.approx(llb, rel=1e-12)


def test_pool_threads_are_kept_between_fits_and_not_shared():
    """A closed pool's threads serve the next pool of the same size; two open pools never share."""
    from emix.engine import pool as pool_mod

    items = list(range(6))
    with ChunkPool(2) as a:
        assert list(a.map(lambda i: i * i, items)) == [i * i for i in items]
        first = a._executor
    with ChunkPool(2) as b, ChunkPool(2) as c:
        assert list(b.map(lambda i: i + 1, items)) == [i + 1 for i in items]
        assert list(c.map(lambda i: i - 1, items)) == [i - 1 for i in items]
        assert b._executor is first and c._executor is not first
        second = c._executor
    assert pool_mod._IDLE[2] is second  # c closed first and was kept; b's threads were shut down
    with pytest.raises(ZeroDivisionError), ChunkPool(2) as d:  # an error: its threads are not kept
        list(d.map(lambda i: 1 // (i - 3), items))
    assert 2 not in pool_mod._IDLE and second._shutdown
