"""Degenerate but valid data fits, warns where something was repaired, and stays finite."""

import re
import warnings

import numpy as np
import pytest
from scipy import stats

import emix
from emix import DegenerateComponentWarning

COV_TYPES = ["full", "tied", "diag", "spherical"]

pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")


def assert_all_finite(m):
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_", "history_"):
        assert np.isfinite(getattr(m, name)).all(), name


@pytest.mark.parametrize("cov", COV_TYPES)
def test_constant_column_with_default_reg_covar(cov):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), np.full(200, 3.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)  # reg_covar handles it
        m = emix.GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
    assert_all_finite(m)


@pytest.mark.parametrize("cov", ["full", "tied", "diag"])  # a spherical variance averages the columns
def test_constant_column_with_zero_reg_covar_warns_and_repairs(cov):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), np.full(200, 3.0)])
    with pytest.warns(DegenerateComponentWarning, match="reg_covar"):
        m = emix.GaussianMixture(2, covariance_type=cov, reg_covar=0.0, random_state=0, max_iter=5).fit(X)
    assert_all_finite(m)
    assert np.isfinite(m.score_samples(X)).all()


@pytest.mark.parametrize("cov", COV_TYPES)
def test_duplicated_points(cov):
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0], [5.0, 5.0]]), 30, axis=0)
    m = emix.GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
    assert_all_finite(m)
    assert sorted(np.bincount(m.predict(X))) == [30, 60]


@pytest.mark.parametrize("cov", COV_TYPES)
def test_collapsing_component_with_zero_reg_covar(cov):
    # one isolated point attracts a component that collapses onto it
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(100, 2)), [[50.0, 50.0]]])
    means = np.array([[0.0, 0.0], [50.0, 50.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = emix.GaussianMixture(
            2, covariance_type=cov, reg_covar=0.0, means_init=means, random_state=0, max_iter=10
        ).fit(X)
    assert_all_finite(m)
    if cov != "tied":  # the collapsed component's covariance needed repair, and we said so
        assert any(issubclass(w.category, DegenerateComponentWarning) for w in caught)
        assert any("component 1" in str(w.message) for w in caught)


def test_empty_component_keeps_its_place():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 2))
    means = np.array([[0.0, 0.0], [1e6, 1e6]])  # second component gets no responsibility
    with pytest.warns(DegenerateComponentWarning) as seen:  # the repairs, then degenerate_ at the end
        m = emix.GaussianMixture(2, means_init=means, max_iter=3).fit(X)
    assert any(re.search(r"component\(s\) \[1\] received no responsibility", str(w.message)) for w in seen)
    assert m.diagnostics_.inexact_m_steps and m.diagnostics_.repairs[0].components == (1,)
    assert m.weights_.shape == (2,)
    assert 0 < m.weights_[1] < 1e-12
    np.testing.assert_array_equal(m.means_[1], [1e6, 1e6])
    assert_all_finite(m)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_far_apart_clusters_in_200_dimensions(cov):
    rng = np.random.default_rng(3)
    d = 200
    centres = np.stack([np.zeros(d), np.full(d, 40.0), np.full(d, -40.0)])
    labels = np.repeat([0, 1, 2], 40)
    X = centres[labels] + rng.normal(size=(120, d))
    m = emix.GaussianMixture(3, covariance_type=cov, reg_covar=1e-3, means_init=centres, max_iter=5).fit(X)
    assert_all_finite(m)
    R = m.predict_proba(X)
    assert np.isfinite(R).all()
    # each true cluster maps onto one component, certainly
    assert all(len(set(m.predict(X[labels == j]))) == 1 for j in range(3))
    np.testing.assert_allclose(R.max(axis=1), 1.0)
    # the log-density agrees with scipy's in this far-from-1 regime
    ref = np.logaddexp.reduce(
        [
            np.log(m.weights_[k]) + stats.multivariate_normal(m.means_[k], _full_cov(m, k, d)).logpdf(X[:5])
            for k in range(3)
        ],
        axis=0,
    )
    np.testing.assert_allclose(m.score_samples(X[:5]), ref, rtol=1e-9)
    # the other components' log-joint lies hundreds of nats below: exp() would underflow
    logp = m._make_family().log_prob(X[:5], m._component_params())
    assert np.all(np.sort(logp, axis=1)[:, -2] - logp.max(axis=1) < -700)


def _full_cov(m, k, d):
    c = m.covariances_
    return {
        "full": lambda: c[k],
        "tied": lambda: c,
        "diag": lambda: np.diag(c[k]),
        "spherical": lambda: c[k] * np.eye(d),
    }[m.covariance_type]()


def test_large_offsets_lose_no_digits():
    # centred statistics: a 1e5 offset (data still exact to ~1e-11) gives the same covariances
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 2)) * [1.0, 0.01]
    init = dict(
        weights_init=[0.5, 0.5], means_init=[[-0.5, 0.0], [0.5, 0.0]], precisions_init=[np.eye(2), np.eye(2)]
    )
    shifted = dict(init, means_init=np.array(init["means_init"]) + 1e5)
    a = emix.GaussianMixture(2, tol=0, max_iter=20, accelerate=False, **init).fit(X)
    b = emix.GaussianMixture(2, tol=0, max_iter=20, accelerate=False, **shifted).fit(X + 1e5)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-6)
    # SQUAREM extrapolates the means, known only to ~eps * 1e5 at this offset, and a step of
    # length alpha multiplies that error by up to alpha^2: a looser agreement, the same fit
    a = emix.GaussianMixture(2, tol=0, max_iter=20, **init).fit(X)
    b = emix.GaussianMixture(2, tol=0, max_iter=20, **shifted).fit(X + 1e5)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-4)
