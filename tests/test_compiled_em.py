"""The compiled EM loops (``emix._kernels.numba_em*``) take the Python driver's steps.

With numba, a fit with an exact M-step (``reg_covar=0``), plain EM and the
``"mclust"`` or ``"sklearn"`` rule on data in one chunk runs in one compiled
loop; without it (or with ``use_numba(False)``) the Python driver runs. The
two must agree: the same number of iterations, the same history to rounding,
the same degenerate components.
"""

import warnings

import numpy as np
import pytest

import emix
from emix import _kernels
from emix.families.gaussian import MCLUST_MODELS

pytestmark = [
    pytest.mark.skipif(not _kernels.numba_available(), reason="needs numba"),
    pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::emix.exceptions.DegenerateComponentWarning"),
]


def fit(X, model, k, numba, **kw):
    params = dict(reg_covar=0.0, tol=1e-5, convergence="mclust", max_iter=10**6, accelerate=False)
    params.update(kw)
    with _kernels.use_numba(numba):
        return emix.GaussianMixture(k, covariance_type=model, init_params="hierarchical", **params).fit(X)


@pytest.mark.parametrize("model", MCLUST_MODELS)
@pytest.mark.parametrize("name", ["faithful", "iris"])
def test_compiled_loop_equals_the_python_loop(model, name):
    X = getattr(emix.datasets, f"load_{name}")()
    for k in (1, 3, 5):
        a, b = fit(X, model, k, True), fit(X, model, k, False)
        assert a.n_iter_ == b.n_iter_ and len(a.history_) == len(b.history_)
        np.testing.assert_allclose(a.history_, b.history_, rtol=1e-10)
        np.testing.assert_allclose(a.means_, b.means_, rtol=1e-7, atol=1e-9)
        assert a.degenerate_.tolist() == b.degenerate_.tolist()
        assert a.converged_ == b.converged_


def test_sklearn_rule_and_galaxies_in_one_dimension():
    X = emix.datasets.load_galaxies()
    for model in ("E", "V"):
        for k in (2, 4, 6):
            a, b = (
                fit(X, model, k, True, convergence="sklearn", tol=1e-6),
                fit(X, model, k, False, convergence="sklearn", tol=1e-6),
            )
            assert a.n_iter_ == b.n_iter_
            np.testing.assert_allclose(a.history_, b.history_, rtol=1e-10)


def test_max_iter_and_a_degenerate_stop_match():
    X = emix.datasets.load_iris()
    for model in ("VVV", "VEE", "EVI"):
        a, b = fit(X, model, 9, True, max_iter=7), fit(X, model, 9, False, max_iter=7)
        assert a.n_iter_ == b.n_iter_ <= 7
        np.testing.assert_allclose(a.history_, b.history_, rtol=1e-10)
    a, b = fit(X, "VEE", 9, True), fit(X, "VEE", 9, False)  # mclust: NA (a singular covariance)
    assert a.degenerate_.tolist() == b.degenerate_.tolist() != []


def test_other_settings_run_in_python(monkeypatch):
    """float32 data, a progress callback and chunked data keep the Python loop; the defaults'
    settings (``reg_covar > 0``, ``"aitken"``, ``accelerate`` on small data) run compiled
    (issue 15, ``tests/test_compiled_defaults.py``)."""
    from emix.engine import driver

    calls = []
    orig = driver._compiled_run
    monkeypatch.setattr(driver, "_compiled_run", lambda *a, **kw: calls.append(orig(*a, **kw)) or calls[-1])
    X = emix.datasets.load_faithful()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in (dict(accelerate=True), dict(reg_covar=1e-6), dict(convergence="aitken")):
            g = fit(X, "VVV", 3, True, **kw)
            assert np.isfinite(g.log_likelihood_) and calls[-1] is not None
        calls.clear()
        fit(X.astype(np.float32), "VVV", 3, True)
        fit(X, "VVV", 3, True, chunk_size=100)
        assert all(c is None for c in calls)
        n = len(calls)
        with _kernels.use_numba(True):
            emix.GaussianMixture(3, reg_covar=0.0, accelerate=False).fit(X, progress=lambda p: None)
        assert len(calls) == n  # a callback: the compiled loop is not even asked


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical"])
def test_tol_zero_under_the_default_rule_runs_compiled_and_equals_the_python_loop(model, monkeypatch):
    """``tol=0`` never stops under any rule, so the default ``"aitken"`` fit runs in the compiled
    loop (as under ``"sklearn"``): exactly ``max_iter`` iterations, the Python loop's history."""
    from emix.engine import driver

    X = emix.datasets.load_faithful()
    calls = []
    orig = driver._compiled_run

    def spy(*a, **kw):
        out = orig(*a, **kw)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(driver, "_compiled_run", spy)
    kw = dict(tol=0.0, max_iter=25, accelerate=False, random_state=0)
    a = emix.GaussianMixture(3, covariance_type=model, reg_covar=0.0, **kw).fit(X)
    assert calls == [True]
    b = emix.GaussianMixture(3, covariance_type=model, reg_covar=0.0, **kw).fit(X, progress=lambda p: None)
    assert calls == [True]  # a callback keeps the Python loop
    assert a.n_iter_ == b.n_iter_ == 25 and len(a.history_) == len(b.history_) == 26
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-12)


@pytest.mark.parametrize("model", ["full", "tied"])
def test_sklearn_full_and_tied_run_the_compiled_loop_with_the_sklearn_rule(model):
    """scikit-learn's full and tied models (no inner solver) in the compiled loop equal mclust's
    VVV and EEE there and the Python loop (they once failed on a missing ``inner_tol``)."""
    X = emix.datasets.load_faithful()
    kw = dict(convergence="sklearn", tol=1e-6, reg_covar=0.0, accelerate=False, random_state=0, max_iter=500)
    a = emix.GaussianMixture(3, covariance_type=model, **kw).fit(X)
    b = emix.GaussianMixture(3, covariance_type=model, **kw).fit(X, progress=lambda p: None)
    assert a.converged_ and a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-12)
