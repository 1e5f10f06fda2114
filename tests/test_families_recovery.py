"""Fits on data simulated from known mixtures recover the parameters.

Errors are compared with the sampling error of the estimator (a few standard
errors), components are matched by the best permutation, the log-likelihood
history never decreases when the M-step is exact, and samples drawn from the
fitted model reproduce its moments.
"""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import emix
from emix.families import ProductFamily, make_family


def _match(true, est):
    """Permutation of est's components (axis 0) closest to true."""
    k = true.shape[0]
    best = min(itertools.permutations(range(k)), key=lambda p: np.abs(est[list(p)] - true).sum())
    return list(best)


def _assert_monotone(model):
    h = model.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1])), np.diff(h).min()


def _simulate(rng, weights, n):
    z = rng.choice(len(weights), size=n, p=weights)
    return z, np.bincount(z, minlength=len(weights))


WEIGHTS = np.array([0.25, 0.35, 0.4])


def test_bernoulli_recovery():
    rng = np.random.default_rng(0)
    p = np.array(
        [
            [0.9, 0.8, 0.1, 0.2, 0.7, 0.1, 0.5, 0.9],
            [0.1, 0.2, 0.9, 0.8, 0.6, 0.1, 0.2, 0.1],
            [0.5, 0.9, 0.5, 0.1, 0.1, 0.9, 0.8, 0.3],
        ]
    )
    z, nk = _simulate(rng, WEIGHTS, 6000)
    X = (rng.random((z.size, 8)) < p[z]).astype(float)
    m = emix.BernoulliMixture(3, alpha=0, n_init=3, tol=1e-8, max_iter=500, random_state=1).fit(X)
    perm = _match(p, m.probabilities_)
    se = np.sqrt(p * (1 - p) / nk[:, None])
    err = np.abs(m.probabilities_[perm] - p)
    assert np.all(err < 5 * se + 0.01), (err / se).max()
    assert np.all(np.abs(m.weights_[perm] - WEIGHTS) < 0.03)
    _assert_monotone(m)
    Xs, _ = m.sample(40000)
    model_mean = m.weights_ @ m.probabilities_
    assert np.all(np.abs(Xs.mean(axis=0) - model_mean) < 5 * np.sqrt(0.25 / 40000))


def test_poisson_recovery():
    rng = np.random.default_rng(1)
    lam = np.array([[1.0, 10.0, 3.0], [8.0, 2.0, 12.0], [20.0, 5.0, 1.0]])
    z, nk = _simulate(rng, WEIGHTS, 4000)
    X = rng.poisson(lam[z]).astype(float)
    m = emix.PoissonMixture(3, alpha=0, n_init=2, tol=1e-8, max_iter=500, random_state=0).fit(X)
    perm = _match(lam, m.rates_)
    se = np.sqrt(lam / nk[:, None])
    err = np.abs(m.rates_[perm] - lam)
    assert np.all(err < 5 * se), (err / se).max()
    _assert_monotone(m)
    Xs, _ = m.sample(40000)
    mean = m.weights_ @ m.rates_
    var = m.weights_ @ (m.rates_ + m.rates_**2) - mean**2
    np.testing.assert_array_less(np.abs(Xs.mean(axis=0) - mean), 5 * np.sqrt(var / 40000))
    np.testing.assert_allclose(Xs.var(axis=0), var, rtol=0.05)


def test_exponential_recovery():
    rng = np.random.default_rng(2)
    lam = np.array([[5.0, 0.2], [0.2, 5.0]])
    w = np.array([0.4, 0.6])
    z, nk = _simulate(rng, w, 6000)
    X = rng.exponential(1.0 / lam[z])
    m = emix.Mixture(2, family="exponential", n_init=2, tol=1e-9, max_iter=1000, random_state=0).fit(X)
    perm = _match(lam, m.rates_)
    err = np.abs(m.rates_[perm] - lam) / lam
    assert np.all(err < 6 / np.sqrt(nk[:, None])), err
    _assert_monotone(m)
    Xs, _ = m.sample(40000)
    mean = m.weights_ @ (1 / m.rates_)
    var = m.weights_ @ (2 / m.rates_**2) - mean**2
    np.testing.assert_array_less(np.abs(Xs.mean(axis=0) - mean), 5 * np.sqrt(var / 40000))


def test_categorical_recovery():
    rng = np.random.default_rng(3)
    n_levels = [2, 3, 4, 3]
    p = np.zeros((3, 4, 4))
    p[:, 0, :2] = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]
    p[:, 1, :3] = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    p[:, 2, :4] = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.25, 0.25, 0.25, 0.25]]
    p[:, 3, :3] = [[0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]]
    z, nk = _simulate(rng, WEIGHTS, 6000)
    X = np.column_stack(
        [[rng.choice(n_levels[j], p=p[k, j, : n_levels[j]]) for k in z] for j in range(4)]
    ).astype(float)
    m = emix.Mixture(
        3, family={"family": "categorical", "alpha": 0}, n_init=3, tol=1e-8, max_iter=500, random_state=0
    ).fit(X)
    assert m.n_levels_.tolist() == n_levels
    perm = _match(p.reshape(3, -1), m.probabilities_.reshape(3, -1))
    se = np.sqrt(p * (1 - p) / nk[:, None, None])
    err = np.abs(m.probabilities_[perm] - p)
    assert np.all(err < 5 * se + 0.01), (err / np.maximum(se, 1e-9)).max()
    _assert_monotone(m)
    Xs, _ = m.sample(30000)
    for j in range(4):
        freq = np.bincount(Xs[:, j].astype(int), minlength=4) / 30000
        want = m.weights_ @ m.probabilities_[:, j, :]
        assert np.all(np.abs(freq - want) < 5 * np.sqrt(0.25 / 30000))


def test_student_recovery_estimated_dof():
    rng = np.random.default_rng(4)
    means = np.array([[0.0, 0.0], [6.0, 4.0]])
    scales = np.array([[[1.0, 0.3], [0.3, 0.5]], [[2.0, -0.5], [-0.5, 1.0]]])
    dof = np.array([4.0, 8.0])
    w = np.array([0.45, 0.55])
    z, nk = _simulate(rng, w, 6000)
    X = np.empty((z.size, 2))
    for k in range(2):
        idx = z == k
        g = rng.standard_normal((nk[k], 2)) @ np.linalg.cholesky(scales[k]).T
        X[idx] = means[k] + g / np.sqrt(rng.chisquare(dof[k], nk[k]) / dof[k])[:, None]
    m = emix.StudentMixture(2, reg_covar=0, tol=1e-9, max_iter=500, random_state=0).fit(X)
    perm = _match(means, m.means_)
    assert np.abs(m.means_[perm] - means).max() < 0.1
    np.testing.assert_allclose(m.covariances_[perm], scales, atol=0.15)
    assert np.all(np.abs(np.log(m.dof_[perm] / dof)) < 0.35), m.dof_[perm]
    np.testing.assert_allclose(m.weights_[perm], w, atol=0.03)
    _assert_monotone(m)
    Xs, _ = m.sample(40000)
    mean = m.weights_ @ m.means_
    assert np.abs(Xs.mean(axis=0) - mean).max() < 0.06


def test_student_fixed_dof_is_kept_and_robust_to_outliers():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.standard_normal((500, 2)), rng.standard_normal((500, 2)) + [8.0, 0.0]])
    X = np.vstack([X, rng.uniform(-60, 60, (20, 2))])  # gross outliers
    t = emix.StudentMixture(2, dof=3.0, reg_covar=0, tol=1e-8, max_iter=300, n_init=4, random_state=0).fit(X)
    assert np.all(t.dof_ == 3.0)
    g = emix.GaussianMixture(2, reg_covar=0, tol=1e-8, max_iter=300, random_state=0).fit(X)
    truth = np.array([[0.0, 0.0], [8.0, 0.0]])
    t_err = np.abs(t.means_[_match(truth, t.means_)] - truth).max()
    g_err = np.abs(g.means_[_match(truth, g.means_)] - truth).max()
    assert t_err < 0.15 and t_err < g_err
    _assert_monotone(t)


def test_product_recovers_clusters_on_mixed_table():
    rng = np.random.default_rng(6)
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    p = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    z, nk = _simulate(rng, WEIGHTS, 3000)
    num = means[z] + rng.standard_normal((z.size, 2))
    cat1 = np.array([rng.choice(3, p=p[k]) for k in z])
    cat2 = np.array([rng.choice(3, p=p[(k + 1) % 3]) for k in z])
    X = np.column_stack([cat1, num[:, 0], cat2, num[:, 1]])
    fam = ProductFamily(
        [
            (make_family("gaussian", covariance_type="diag", reg_covar=0), [1, 3]),
            (make_family("categorical", alpha=0), [0, 2]),
        ]
    )
    m = emix.Mixture(3, family=fam, n_init=3, tol=1e-8, max_iter=500, random_state=0).fit(X)
    ari = adjusted_rand_score(z, m.predict(X))
    # the numeric part alone (a hard overlap) does worse than the mixed model
    g = emix.GaussianMixture(3, covariance_type="diag", n_init=3, random_state=0).fit(num)
    assert ari > 0.6 and ari > adjusted_rand_score(z, g.predict(num)) + 0.1
    perm = _match(means, m.part0_means_)
    assert np.abs(m.part0_means_[perm] - means).max() < 0.15
    _assert_monotone(m)
    Xs, _ = m.sample(1000)
    assert set(np.unique(Xs[:, 0])) <= {0.0, 1.0, 2.0}


@pytest.mark.parametrize("estimator", [emix.BernoulliMixture, emix.PoissonMixture])
def test_default_pseudo_count_avoids_log_zero(estimator):
    # feature 1 is always 0 in training; a later 1 must not have zero density
    X = np.array([[1, 0], [1, 0], [0, 0], [0, 0]] * 5, dtype=float)
    m = estimator(2, random_state=0).fit(X)
    assert np.isfinite(m.score_samples(np.array([[1.0, 1.0]]))).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m0 = estimator(2, alpha=0, random_state=0).fit(X)
    assert m0.score_samples(np.array([[1.0, 1.0]]))[0] == -np.inf
