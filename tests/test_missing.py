"""Exact EM with values missing at random (NaN) for the Gaussian mixture."""

import warnings

import numpy as np
import pytest
from scipy import stats

import emix
from emix import ConvergenceWarning

COV_TYPES = ["full", "tied", "diag", "spherical"]


def simulate(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    d, k = 5, 3
    means = np.array([np.zeros(d), np.full(d, 4.0), np.r_[4.0, -4.0, 4.0, -4.0, 0.0]])
    A = rng.normal(size=(k, d, d)) * 0.4
    covs = np.array([a @ a.T + np.eye(d) * 0.5 for a in A])
    weights = np.array([0.5, 0.3, 0.2])
    z = rng.choice(k, size=n, p=weights)
    X = np.stack([rng.multivariate_normal(means[j], covs[j]) for j in z])
    return X, weights, means, covs


def remove_at_random(X, frac, seed=1):
    rng = np.random.default_rng(seed)
    Xm = X.copy()
    Xm[rng.random(X.shape) < frac] = np.nan
    Xm[np.isnan(Xm).all(axis=1), 0] = X[np.isnan(Xm).all(axis=1), 0]  # keep one value per row
    return Xm


def observed_loglik(X, weights, means, covs):
    """ln p(X_obs | theta) computed directly, row by row, with scipy."""
    total = 0.0
    for x in X:
        o = ~np.isnan(x)
        dens = [
            w * stats.multivariate_normal(m[o], c[np.ix_(o, o)]).pdf(x[o])
            for w, m, c in zip(weights, means, covs)
        ]
        total += np.log(np.sum(dens))
    return total


def param_error(model, means, covs):
    order = [int(np.argmin(((model.means_ - m) ** 2).sum(axis=1))) for m in means]
    return np.linalg.norm(model.means_[order] - means) + np.linalg.norm(model.covariances_[order] - covs)


def test_parameters_with_20_percent_missing_stay_within_twice_the_complete_error():
    X, weights, means, covs = simulate()
    Xm = remove_at_random(X, 0.2)
    assert 0.15 < np.isnan(Xm).mean() < 0.25
    kw = dict(n_components=3, tol=1e-6, max_iter=500, random_state=0, n_init=4)
    full = emix.GaussianMixture(**kw).fit(X)
    miss = emix.GaussianMixture(**kw).fit(Xm)
    e_full, e_miss = param_error(full, means, covs), param_error(miss, means, covs)
    assert e_miss <= 2 * e_full, (e_miss, e_full)
    assert np.all(np.diff(miss.history_) >= -1e-9 * np.abs(miss.history_[:-1]))


@pytest.mark.parametrize("cov", COV_TYPES)
def test_log_likelihood_equals_direct_observed_data_likelihood(cov):
    X, *_ = simulate(n=300, seed=3)
    Xm = remove_at_random(X, 0.3, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = emix.GaussianMixture(3, covariance_type=cov, max_iter=20, random_state=0, reg_covar=0.0).fit(Xm)
    d = X.shape[1]
    full_covs = [m._make_family().model.component_covariance(m.covariances_, k, d) for k in range(3)]
    direct = observed_loglik(Xm, m.weights_, m.means_, full_covs)
    assert m.log_likelihood_ == pytest.approx(direct, rel=1e-10)
    assert m.score_samples(Xm).sum() == pytest.approx(direct, rel=1e-10)
    # exact EM: the observed-data likelihood never decreases
    h = m.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))


def test_missing_results_do_not_depend_on_chunk_size():
    X, *_ = simulate(n=400, seed=5)
    Xm = remove_at_random(X, 0.25, seed=6)
    kw = dict(n_components=3, tol=0, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = emix.GaussianMixture(chunk_size=37, **kw).fit(Xm)
        b = emix.GaussianMixture(chunk_size=400, **kw).fit(Xm)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-9)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-9)


def test_predict_and_proba_accept_missing_values():
    X, *_ = simulate(n=500, seed=7)
    m = emix.GaussianMixture(3, random_state=0).fit(X)
    Xm = remove_at_random(X, 0.3, seed=8)
    R = m.predict_proba(Xm)
    assert np.isfinite(R).all()
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    assert np.mean(m.predict(Xm) == m.predict(X)) > 0.9


def test_impute_is_the_conditional_mean():
    rng = np.random.default_rng(9)
    cov = np.array([[2.0, 0.8, 0.3], [0.8, 1.0, 0.2], [0.3, 0.2, 0.5]])
    X = rng.multivariate_normal([1.0, -2.0, 3.0], cov, size=2000)
    m = emix.GaussianMixture(1, random_state=0).fit(X)
    x = np.array([[0.5, np.nan, np.nan], [np.nan, -1.0, 2.0], [1.0, 2.0, 3.0]])
    filled = m.impute(x)
    mu, S = m.means_[0], m.covariances_[0]
    # by the formula: mu_M + S_MO S_OO^-1 (x_O - mu_O)
    expect1 = mu[1:] + S[1:, :1] @ np.linalg.solve(S[:1, :1], x[0, :1] - mu[:1])
    expect2 = mu[:1] + S[:1, 1:] @ np.linalg.solve(S[1:, 1:], x[1, 1:] - mu[1:])
    np.testing.assert_allclose(filled[0, 1:], expect1, rtol=1e-12)
    np.testing.assert_allclose(filled[1, :1], expect2, rtol=1e-12)
    np.testing.assert_array_equal(filled[2], x[2])
    np.testing.assert_array_equal(filled[0, 0], 0.5)


def test_impute_beats_column_means():
    X, *_ = simulate(n=1000, seed=10)
    Xm = remove_at_random(X, 0.2, seed=11)
    m = emix.GaussianMixture(3, random_state=0, tol=1e-6, max_iter=300).fit(Xm)
    filled = m.impute(Xm)
    hole = np.isnan(Xm)
    assert not np.isnan(filled).any()
    col_means = np.where(hole, np.nanmean(Xm, axis=0), Xm)
    err_model = np.sqrt(np.mean((filled[hole] - X[hole]) ** 2))
    err_means = np.sqrt(np.mean((col_means[hole] - X[hole]) ** 2))
    assert err_model < 0.6 * err_means
