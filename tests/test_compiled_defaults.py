"""Issue 15: the compiled EM loop runs the defaults (``reg_covar > 0``, the ``"aitken"`` rule).

The Python loop is the reference: with the compiled loop switched off (``driver._compiled_run``
returning ``None``) the same fit, from the same start and with the same numba E-step, must give
the same history, parameters, ``n_iter_`` and ``converged_`` (to ~1e-10). A change of the
stopping rule in :mod:`emix.engine.convergence` that is not made in
:mod:`emix._kernels.numba_em_rules` fails here. A step the NumPy M-step would repair hands the
run back to the Python loop; small data with ``accelerate=True`` run the compiled plain loop and
reach SQUAREM's optimum.
"""

import warnings

import numpy as np
import pytest

import emix
from emix import _kernels
from emix.engine import driver
from emix.exceptions import DegenerateComponentWarning

pytestmark = pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba")

#: the models the compiled loops cover (VEI has no compiled M-step)
COMPILED = (
    "full", "tied", "diag", "spherical",
    "EII", "VII", "EEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV",
)  # fmt: skip


@pytest.fixture
def spy(monkeypatch):
    """Records what each ``_compiled_run`` call returned (``True``: the compiled loop's result)."""
    calls = []
    orig = driver._compiled_run

    def run(*a, **kw):
        out = orig(*a, **kw)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(driver, "_compiled_run", run)
    return calls


def python_loop(est, X, **fit_kw):
    """``est.fit(X)`` by the Python driver (the compiled loop switched off)."""
    orig = driver._compiled_run
    driver._compiled_run = lambda *a, **kw: None
    try:
        return est.fit(X, **fit_kw)
    finally:
        driver._compiled_run = orig


def assert_same_fit(a, b, rtol=1e-10):
    assert a.n_iter_ == b.n_iter_ and a.converged_ == b.converged_
    np.testing.assert_allclose(a.history_, b.history_, rtol=rtol)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-7, atol=1e-10)


def make(model, k, **kw):
    params = dict(accelerate=False, random_state=0, max_iter=2000)
    params.update(kw)
    return emix.GaussianMixture(k, covariance_type=model, **params)


@pytest.mark.parametrize("model", COMPILED)
@pytest.mark.parametrize("name", ["faithful", "iris"])
def test_defaults_compiled_equal_the_python_loop(model, name, spy):
    """``reg_covar=1e-6`` and the ``"aitken"`` rule (the defaults), plain EM."""
    X = getattr(emix.datasets, f"load_{name}")()
    for k in (1, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", emix.exceptions.ConvergenceWarning)
            a = make(model, k).fit(X)
            assert spy[-1] is True
            b = python_loop(make(model, k), X)
        assert_same_fit(a, b)


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize(
    "rule",
    [
        dict(tol=1e-8, rtol=1e-12),  # long runs, the rounding floor of the thresholds
        dict(tol=1e-3, rtol=0.0, max_iter=40),  # rtol=0: never stops
        dict(convergence="sklearn", tol=1e-6),
        dict(convergence="mclust", tol=1e-7),
        dict(reg_covar=1e-2),
    ],
)
def test_rules_and_regularisation_compiled_equal_the_python_loop(model, rule, spy):
    X = emix.datasets.load_faithful()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.exceptions.ConvergenceWarning)
        a = make(model, 3, **rule).fit(X)
        assert spy[-1] is True
        b = python_loop(make(model, 3, **rule), X)
    assert_same_fit(a, b)


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical", "EVI", "VEV"])
def test_sample_weights_compiled_equal_the_python_loop(model, spy):
    X = emix.datasets.load_iris()
    w = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0])
    a = make(model, 3).fit(X, sample_weight=w)
    assert spy[-1] is True
    b = python_loop(make(model, 3), X, sample_weight=w)
    assert_same_fit(a, b)


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical"])
def test_a_step_that_needs_repair_is_handed_back_to_the_python_loop(model, spy):
    """A start whose third component is far from every row: its first M-step finds it empty,
    which the NumPy M-step repairs (with a warning); the compiled loop hands the run back, so
    the fit, its warning and its repaired component are the Python loop's."""
    X = emix.datasets.load_faithful()
    means = np.array([[2.0, 55.0], [4.5, 80.0], [1e4, 1e4]])
    kw = dict(means_init=means, n_init=1)
    with pytest.warns(DegenerateComponentWarning):
        a = make(model, 3, **kw).fit(X)
    assert spy == [False]  # the compiled loop gave the run back
    with pytest.warns(DegenerateComponentWarning):
        b = python_loop(make(model, 3, **kw), X)
    assert_same_fit(a, b, rtol=1e-13)


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("name", ["faithful", "iris"])
def test_small_data_with_acceleration_reach_squarems_optimum(model, name, spy):
    """``accelerate=True`` on small data: the compiled plain loop, which stops at SQUAREM's
    optimum: the log-likelihood within 1e-9 relative. Old Faithful with K=3 has a ridge, along
    which the parameters move far for a change of 1e-12 in the log-likelihood (tied: SQUAREM's
    means end 3.4 away from plain EM's), so the parameters are compared on iris only."""
    X = getattr(emix.datasets, f"load_{name}")()
    kw = dict(accelerate=True, tol=1e-10, rtol=1e-10)
    a = make(model, 3, **kw).fit(X)
    assert spy[-1] is True and not a.accelerated_.any()
    b = python_loop(make(model, 3, **kw), X)
    assert a.converged_ and b.converged_
    np.testing.assert_allclose(a.log_likelihood_, b.log_likelihood_, rtol=1e-9)
    if name == "iris":
        np.testing.assert_allclose(a.means_, b.means_, rtol=1e-4, atol=1e-8)
        np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-3, atol=1e-8)


def test_acceleration_that_plain_em_cannot_finish_is_the_python_squarem_run(spy):
    """When the compiled plain loop does not converge within ``max_iter`` passes, the fit is the
    Python SQUAREM run from the same start (as without the compiled loop)."""
    X = emix.datasets.load_iris()
    kw = dict(accelerate=True, max_iter=12, tol=1e-10, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.exceptions.ConvergenceWarning)
        a = make("full", 4, **kw).fit(X)
        assert spy[-1] is True  # the compiled run was made, then not kept
        b = python_loop(make("full", 4, **kw), X)
    assert_same_fit(a, b, rtol=1e-13)


def test_large_data_with_acceleration_keep_squarem(spy):
    """Above :data:`emix.engine.driver.PLAIN_FIRST_MAX` (rows x K x D) an accelerated fit
    stays in Python (SQUAREM); the plain one is still compiled."""
    rng = np.random.default_rng(0)
    n = driver.PLAIN_FIRST_MAX // 4 + 1
    X = np.concatenate([rng.normal(0, 1, (n // 2, 2)), rng.normal(4, 1, (n - n // 2, 2))])
    a = make("diag", 2, accelerate=True, tol=1e-8, n_jobs=1).fit(X)
    assert spy == [] and a.accelerated_.any()
    make("diag", 2, tol=1e-8, n_jobs=1).fit(X)
    assert spy == [True]


def test_a_discarded_plain_attempt_leaves_no_warnings_or_repairs():
    """``driver._kept_if_converged``: an attempt that did not converge leaves nothing behind; a
    kept one re-issues its warnings (once each) and keeps its recorded repairs."""
    from emix.engine.results import EMResult
    from emix.families import repairs

    def attempt(converged):
        def run():
            for _ in range(3):
                warnings.warn("repaired", DegenerateComponentWarning, stacklevel=1)
            repairs.note((0,), "kept its previous mean and covariance")
            return EMResult(params=None, history=(0.0,), n_iter=1, converged=converged)

        return run

    with repairs.recording() as log, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert driver._kept_if_converged(attempt(False)) is None
        assert log == [] and caught == []
        assert driver._kept_if_converged(attempt(True)).converged
        assert len(log) == 1 and len(caught) == 1


def test_the_compiled_aitken_rule_has_the_monitors_constants():
    """The rule and its constants are defined once (emix._kernels.aitken) for the monitor and the
    compiled loops; the names both modules show must be the same numbers."""
    from emix._kernels import numba_em_rules
    from emix.engine import convergence

    assert numba_em_rules._RISING == convergence._RISING
    assert numba_em_rules._EPS64 == convergence._EPS64 == np.finfo(np.float64).eps
