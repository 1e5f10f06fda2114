"""One meaning for ``tol`` under both stopping rules, warm starts that converge, ``lower_bounds_``,
and a ConvergenceWarning whose advice names a parameter that works."""

import warnings

import numpy as np
import pytest
from helpers import make_blobs

import emix
from emix.engine import ConvergenceMonitor

X, _ = make_blobs(n=400, d=2, k=3, sep=6.0, seed=3)


def fit(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        return emix.GaussianMixture(3, random_state=0, **kw).fit(X)


@pytest.mark.parametrize("rule", ["aitken", "sklearn"])
def test_a_smaller_tol_runs_longer_and_gets_higher_under_each_rule(rule):
    loose, tight = fit(convergence=rule, tol=1e-3), fit(convergence=rule, tol=1e-12)
    assert tight.n_iter_ > loose.n_iter_
    assert tight.log_likelihood_ > loose.log_likelihood_
    assert loose.converged_ and tight.converged_


def test_under_aitken_tol_is_a_bound_on_the_gain_still_expected():
    # the default tol is looser than the rtol test, which then binds: default fits are unchanged
    assert fit(tol=1e-3).n_iter_ == fit(tol=0.5).n_iter_
    # a loose rtol leaves tol to decide
    a, b = fit(tol=1e-2, rtol=1e-2), fit(tol=1e-6, rtol=1e-2)
    assert b.n_iter_ > a.n_iter_


def test_the_sklearn_rule_reads_tol_as_scikit_learn_does():
    plain = fit(convergence="sklearn", accelerate=False, tol=1e-4)
    lb = plain.lower_bounds_
    assert abs(lb[-1] - lb[-2]) < 1e-4 <= abs(lb[-2] - lb[-3])  # stopped at the first small change


def test_monitor_aitken_needs_the_per_sample_gain_below_tol():
    n = 100.0
    values = [-200.0 - 1e-4 * 0.5**t for t in range(6)]  # tiny relative changes, rate 0.5
    for tol, expected in ((1e-3, True), (1e-9, False)):
        mon = ConvergenceMonitor(tol, n, rule="aitken", rtol=1e-5)
        for v in values:
            mon.record(v)
        assert mon.converged is expected, tol


def test_monitor_continues_the_previous_run_only_from_its_last_entry():
    prev = ([-10.0, -9.0, -8.5, -8.25], [False, False, False, False])
    same = ConvergenceMonitor(1e-3, 1.0, rule="sklearn", previous=prev)
    same.record(-8.25)
    assert same.history == [-8.25] and same.run[0] == (-10.0, -9.0, -8.5, -8.25)
    other = ConvergenceMonitor(1e-3, 1.0, rule="sklearn", previous=prev)
    other.record(-3.0)  # other data or other parameters: a fresh run
    assert other.run[0] == (-3.0,)


def test_monitor_carries_only_the_run_since_an_extrapolated_point():
    prev = ([-10.0, -9.0, -8.5, -8.25], [False, True, False, False])
    mon = ConvergenceMonitor(1e-3, 1.0, rule="aitken", previous=prev)
    mon.record(-8.25)
    assert mon.run == ((-9.0, -8.5, -8.25), (True, False, False))


@pytest.mark.parametrize("rule", ["aitken", "sklearn"])
def test_warm_fits_of_one_iteration_converge(rule):
    m = emix.GaussianMixture(3, warm_start=True, max_iter=1, convergence=rule, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        fits = 0
        while fits < 300 and not getattr(m, "converged_", False):
            m.fit(X)
            fits += 1
    assert m.converged_ and fits >= 2  # detected across fits
    cold = fit(convergence=rule, accelerate=False)
    np.testing.assert_allclose(m.lower_bound_, cold.lower_bound_, rtol=1e-6)


def test_a_warm_fit_on_other_data_starts_a_fresh_run():
    m = emix.GaussianMixture(3, warm_start=True, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        for _ in range(300):
            if m.fit(X).converged_:
                break
        assert m.converged_
        m.fit(X + 0.5)  # not the data the run was on
    assert not m.converged_


def test_two_warm_fits_equal_one_fit_of_two_iterations():
    kw = dict(tol=0, accelerate=False)
    one = fit(max_iter=2, **kw)
    warm = emix.GaussianMixture(3, random_state=0, max_iter=1, warm_start=True, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        warm.fit(X)
        warm.fit(X)
    np.testing.assert_allclose(warm.means_, one.means_, rtol=1e-12)
    assert warm.init_used_ == "warm_start"


def test_lower_bounds_are_the_mean_log_likelihood_at_the_start_of_each_iteration():
    m = fit(accelerate=False)
    assert m.lower_bounds_.shape == (m.n_iter_,)
    np.testing.assert_allclose(m.lower_bounds_, m.history_[:-1] / len(X))
    w = np.random.default_rng(0).integers(1, 4, size=len(X)).astype(float)
    mw = emix.GaussianMixture(3, random_state=0).fit(X, sample_weight=w)
    np.testing.assert_allclose(mw.lower_bounds_, mw.history_[:-1] / w.sum())
    assert fit(max_iter=0).lower_bounds_.shape == (0,)


def test_lower_bounds_agree_with_scikit_learns_from_the_same_start():
    sklearn_mixture = pytest.importorskip("sklearn.mixture")
    start = fit(max_iter=0)
    init = dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)
    kw = dict(tol=0, max_iter=6, reg_covar=1e-6, **init)
    ours = fit(convergence="sklearn", accelerate=False, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = sklearn_mixture.GaussianMixture(3, **kw).fit(X)
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-10)


def test_all_init_arrays_given_means_no_initialiser():
    start = fit(max_iter=0)
    m = emix.GaussianMixture(
        3,
        weights_init=start.weights_,
        means_init=start.means_ + 1,
        precisions_init=start.precisions_,
        max_iter=0,
    ).fit(X)
    assert m.init_used_ == "user"
    np.testing.assert_allclose(m.means_, start.means_ + 1)


def test_the_warning_names_the_binding_tolerance():
    with pytest.warns(emix.ConvergenceWarning, match=r"raise max_iter, or rtol \(now 1e-08\)"):
        emix.GaussianMixture(3, max_iter=3, random_state=0).fit(X)
    with pytest.warns(emix.ConvergenceWarning, match=r"raise max_iter, or tol \(now 1e-12\)"):
        emix.GaussianMixture(3, max_iter=3, tol=1e-12, rtol=1e-3, random_state=0).fit(X)
    with pytest.warns(emix.ConvergenceWarning, match=r"increase max_iter, tol, .*or tol \(now 1e-09\)"):
        emix.GaussianMixture(3, max_iter=3, tol=1e-9, convergence="sklearn", random_state=0).fit(X)


def test_the_named_parameter_works():
    # what the warning says to loosen makes the same max_iter enough
    with pytest.warns(emix.ConvergenceWarning, match="rtol"):
        emix.GaussianMixture(3, max_iter=6, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.ConvergenceWarning)
        assert emix.GaussianMixture(3, max_iter=6, rtol=1e-2, random_state=0).fit(X).converged_


def test_monitor_aitken_stops_a_short_run_only_at_rounding_level():
    """Fewer than four plain entries give no rates; such a run stops only when its last change
    is not positive (EM does not descend) or each of its changes is below ``64 eps max(|L|, N)``
    (here 1.4e-10), as EM at a fixed point makes."""
    base = -1e4

    def converged(changes, **kw):
        mon = ConvergenceMonitor(1e-3, 100.0, rule="aitken", **kw)
        v = base
        mon.record(v)
        for d in changes:
            v += d
            mon.record(v)
        return mon.converged

    assert converged([1e-12])
    assert converged([-3e-11, 2e-11])
    assert converged([-4e-9])  # a drop: rounding of the M-step's parameters
    assert converged([1e-6, -1e-9])
    assert not converged([-1e-3], strict=False)  # a drop beyond rtol * |L| = 1e-4
    assert not converged([1e-6])  # within rtol * |L| = 1e-4, but no rate says what is to come
    assert not converged([1e-6, 1e-12])  # an earlier step above rounding
    assert converged([1e-3, 1e-4, 1e-5, 1e-6])  # four changes: Aitken's rates (0.1) decide
    assert not converged([1e-12], rtol=0.0)  # rtol=0: no early stop under this rule
    assert not ConvergenceMonitor(0.0, 100.0, rule="aitken").converged


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("cov", ["full", "diag"])
def test_a_start_at_the_fixed_point_stops_after_two_passes_as_scikit_learn_does(cov, numba):
    """Blobs about 100 standard deviations apart, started at each blob's own weight, mean and
    covariance (with ``reg_covar``): responsibilities are 0 or 1 to rounding, so the start is EM's fixed point. The
    default rule stops after two passes, as scikit-learn's does from the same start (it made
    four before, to read two rates), compiled loop and Python driver alike; three where the
    M-step's rounding moves the first change above the sums' (NumPy's diagonal M-step here:
    +7e-10, then a drop)."""
    from sklearn.mixture import GaussianMixture as SkGM

    from emix import _kernels

    Xb, labels = make_blobs(n=3000, d=3, k=3, sep=100.0, seed=8)
    parts = [Xb[labels == c] for c in range(3)]
    covs = [np.cov(p.T, bias=True) + 1e-6 * np.eye(3) for p in parts]  # reg_covar's 1e-6 too
    start = dict(
        weights_init=np.array([len(p) / len(Xb) for p in parts]),
        means_init=np.array([p.mean(0) for p in parts]),
        precisions_init=np.array([np.linalg.inv(c) for c in covs])
        if cov == "full"
        else np.array([1.0 / np.diag(c) for c in covs]),
    )
    sk = SkGM(3, covariance_type=cov, tol=1e-10, **start).fit(Xb)
    with _kernels.use_numba(numba):
        em = emix.GaussianMixture(3, covariance_type=cov, **start).fit(Xb)
    assert sk.n_iter_ == 2
    assert em.converged_ and em.n_iter_ <= (3 if cov == "diag" and not numba else 2)
    assert em.log_likelihood_ == pytest.approx(sk.lower_bound_ * len(Xb), rel=1e-12)
