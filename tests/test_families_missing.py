"""Missing values (NaN) in the independent families and the product family.

For independent features, exact EM under missing-at-random skips the missing
cells: log p(x_n | k) = sum over the observed d of log f(x_nd | theta_kd), and
each feature's statistics count only the rows where it is observed. The
reference log-likelihoods below are computed independently with scipy.stats.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import emix
from emix.exceptions import InvalidInputError
from emix.families import ProductFamily, make_family

pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")

WEIGHTS = np.array([0.45, 0.55])


def _remove(X, frac, rng, keep_first=0):
    """Remove ``frac`` of the cells completely at random; no row loses every value."""
    X = X.copy()
    mask = rng.random(X.shape) < frac
    mask[mask.all(axis=1), 0] = False
    mask[:keep_first] = False
    X[mask] = np.nan
    return X


def _labels(rng, n):
    return rng.choice(len(WEIGHTS), size=n, p=WEIGHTS)


# -- the four independent families: truth, simulation, direct log-density, estimator ----------------
CASES = {
    "bernoulli": dict(
        truth=np.array([[0.9, 0.8, 0.15, 0.3, 0.6], [0.1, 0.25, 0.85, 0.7, 0.4]]),
        simulate=lambda rng, z, p: (rng.random((z.size, p.shape[1])) < p[z]).astype(float),
        logf=lambda x, p: stats.bernoulli.logpmf(x, p),
        make=lambda **kw: emix.BernoulliMixture(2, alpha=0, **kw),
        fitted=lambda m: m.probabilities_,
        se=lambda p, n: np.sqrt(p * (1 - p) / n),
    ),
    "poisson": dict(
        truth=np.array([[1.0, 6.0, 3.0], [7.0, 1.5, 10.0]]),
        simulate=lambda rng, z, lam: rng.poisson(lam[z]).astype(float),
        logf=lambda x, lam: stats.poisson.logpmf(x, lam),
        make=lambda **kw: emix.PoissonMixture(2, alpha=0, **kw),
        fitted=lambda m: m.rates_,
        se=lambda lam, n: np.sqrt(lam / n),
    ),
    "exponential": dict(
        truth=np.array([[0.3, 4.0], [3.0, 0.5]]),
        simulate=lambda rng, z, lam: rng.exponential(1.0 / lam[z]),
        logf=lambda x, lam: stats.expon.logpdf(x, scale=1.0 / lam),
        make=lambda **kw: emix.Mixture(2, family="exponential", **kw),
        fitted=lambda m: m.rates_,
        se=lambda lam, n: lam / np.sqrt(n),
    ),
    "categorical": dict(
        # (K, D, L): 3 features with 3 levels
        truth=np.array(
            [
                [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.4, 0.1]],
                [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.1, 0.3, 0.6]],
            ]
        ),
        simulate=lambda rng, z, p: np.column_stack(
            [
                (rng.random(z.size)[:, None] > np.cumsum(p[z, d], axis=1)).sum(axis=1)
                for d in range(p.shape[1])
            ]
        ).astype(float),
        logf=None,  # indexing: log p[k, d, x]
        make=lambda **kw: emix.Mixture(2, family={"family": "categorical", "alpha": 0}, **kw),
        fitted=lambda m: m.probabilities_,
        se=lambda p, n: np.sqrt(p * (1 - p) / n),
    ),
}


def _simulate(name, n, seed):
    rng = np.random.default_rng(seed)
    z = _labels(rng, n)
    case = CASES[name]
    return case["simulate"](rng, z, case["truth"]), z, rng


def _direct_log_joint(name, X, weights, theta):
    """log pi_k + sum_{observed d} log f(x_nd | theta_kd), cell by cell, shape (n, K)."""
    n, d = X.shape
    out = np.empty((n, len(weights)))
    for i in range(n):
        for k in range(len(weights)):
            lp = np.log(weights[k])
            for j in range(d):
                x = X[i, j]
                if np.isnan(x):
                    continue
                if name == "categorical":
                    with np.errstate(divide="ignore"):  # alpha=0: an unseen level has p = 0
                        lp += np.log(theta[k, j, int(x)])
                else:
                    lp += float(CASES[name]["logf"](x, theta[k, j]))
            out[i, k] = lp
    return out


def _direct_log_density(name, X, weights, theta):
    """log sum_k pi_k prod_{observed d} f(x_nd | theta_kd), shape (n,)."""
    return logsumexp(_direct_log_joint(name, X, weights, theta), axis=1)


def _match(true, est):
    """est reordered by the permutation of components closest to true."""
    best = min(itertools.permutations(range(len(true))), key=lambda p: np.abs(est[list(p)] - true).max())
    return est[list(best)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_likelihood_equals_direct_observed_data_computation(name):
    X, _, rng = _simulate(name, 300, seed=1)
    Xm = _remove(X, 0.3, rng)
    model = CASES[name]["make"](random_state=0, max_iter=20).fit(Xm)
    theta = CASES[name]["fitted"](model)
    direct = _direct_log_density(name, Xm, model.weights_, theta)
    np.testing.assert_allclose(model.score_samples(Xm), direct, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.log_likelihood_, direct.sum(), rtol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_history_never_decreases_with_missing_values(name):
    X, _, rng = _simulate(name, 800, seed=2)
    Xm = _remove(X, 0.2, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.exceptions.EmixWarning)
        model = CASES[name]["make"](random_state=0, max_iter=200, tol=1e-10).fit(Xm)
    h = model.history_
    assert len(h) > 5
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_parameters_recovered_with_20_percent_missing(name):
    """Error with 20 % of cells missing at random <= max(2 x the complete-data error, 4 standard errors)."""
    case = CASES[name]
    n = 4000
    X, _, rng = _simulate(name, n, seed=3)
    Xm = _remove(X, 0.2, rng)
    truth = case["truth"]
    errs = {}
    for label, data in (("complete", X), ("missing", Xm)):
        model = case["make"](random_state=0, max_iter=500, tol=1e-8, n_init=2).fit(data)
        est = _match(truth, case["fitted"](model))
        errs[label] = np.abs(est - truth).max()
    # standard error of the estimate from the observed cells of the smaller component
    se = case["se"](truth, 0.8 * WEIGHTS.min() * n).max()
    assert errs["missing"] <= max(2 * errs["complete"], 4 * se), errs


@pytest.mark.parametrize("name", sorted(CASES))
def test_chunk_size_does_not_change_the_fit(name):
    X, _, rng = _simulate(name, 500, seed=4)
    # the first rows are complete, so chunks without NaN meet chunks with NaN
    Xm = _remove(X, 0.2, rng, keep_first=100)
    a = CASES[name]["make"](random_state=0, max_iter=30, tol=0).fit(Xm)
    b = CASES[name]["make"](random_state=0, max_iter=30, tol=0, chunk_size=37).fit(Xm)
    np.testing.assert_allclose(CASES[name]["fitted"](a), CASES[name]["fitted"](b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_predict_on_rows_with_missing_values(name):
    X, _, rng = _simulate(name, 400, seed=5)
    model = CASES[name]["make"](random_state=0).fit(X)
    Xm = _remove(X[:50], 0.5, rng)
    proba = model.predict_proba(Xm)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    direct = _direct_log_joint(name, Xm, model.weights_, CASES[name]["fitted"](model))
    np.testing.assert_allclose(proba, np.exp(direct - logsumexp(direct, axis=1, keepdims=True)), rtol=1e-9)
    np.testing.assert_array_equal(model.predict(Xm), direct.argmax(axis=1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_weight_equals_repetition_with_missing_values(name):
    X, _, rng = _simulate(name, 200, seed=6)
    Xm = _remove(X, 0.25, rng)
    w = rng.integers(1, 4, size=len(Xm))
    start = CASES[name]["truth"] * 0.9 + 0.1 * CASES[name]["truth"].mean(axis=0)  # a common start
    array = {"categorical": "probabilities", "bernoulli": "probabilities"}.get(name, "rates")
    fits = []
    for data, weight in ((Xm, w.astype(float)), (np.repeat(Xm, w, axis=0), None)):
        model = CASES[name]["make"](max_iter=20, tol=0, weights_init=[0.4, 0.6])
        if isinstance(model, emix.Mixture):
            model.set_params(params_init={array: start})
        else:
            model.set_params(**{array + "_init": start})
        fits.append(model.fit(data, sample_weight=weight))
    a, b = fits
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(CASES[name]["fitted"](a), CASES[name]["fitted"](b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-9)


# -- product family: Gaussian + categorical columns ---------------------------------------------------
def _mixed_table(n, seed):
    rng = np.random.default_rng(seed)
    z = _labels(rng, n)
    means = np.array([[-2.0, 0.0], [2.0, 1.0]])
    cov = np.array([[1.0, 0.5], [0.5, 1.5]])
    g = means[z] + rng.multivariate_normal(np.zeros(2), cov, size=n)
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    c = (rng.random(n)[:, None] > np.cumsum(p[z], axis=1)).sum(axis=1)
    return np.column_stack([g[:, 0], c, g[:, 1]]).astype(float), rng


def _product_family():
    return ProductFamily(
        [
            (make_family("gaussian", covariance_type="full", reg_covar=0.0), [0, 2]),
            (make_family("categorical", alpha=0.0), [1]),
        ]
    )


def _direct_product_log_density(model, X):
    means, covs = model.part0_means_, model.part0_covariances_
    probs = model.part1_probabilities_
    out = np.empty(len(X))
    for i, row in enumerate(X):
        g, c = row[[0, 2]], row[1]
        terms = []
        for k in range(len(model.weights_)):
            lp = np.log(model.weights_[k])
            o = ~np.isnan(g)
            if o.any():
                lp += stats.multivariate_normal(means[k][o], covs[k][np.ix_(o, o)]).logpdf(g[o])
            if not np.isnan(c):
                lp += np.log(probs[k, 0, int(c)])
            terms.append(lp)
        out[i] = logsumexp(terms)
    return out


def test_product_family_with_missing_gaussian_and_categorical_cells():
    X, rng = _mixed_table(600, seed=7)
    Xm = _remove(X, 0.2, rng)
    assert np.isnan(Xm[:, [0, 2]]).all(axis=1).any()  # some rows lose their whole Gaussian block
    assert np.isnan(Xm[:, 1]).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.exceptions.EmixWarning)
        model = emix.Mixture(2, family=_product_family(), random_state=0, max_iter=300, tol=1e-8).fit(Xm)
    assert np.all(np.diff(model.history_) >= -1e-9 * np.abs(model.history_[:-1]))
    direct = _direct_product_log_density(model, Xm)
    np.testing.assert_allclose(model.score_samples(Xm), direct, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.log_likelihood_, direct.sum(), rtol=1e-10)
    est = _match(np.array([[-2.0, 0.0], [2.0, 1.0]]), model.part0_means_)
    assert np.abs(est - [[-2.0, 0.0], [2.0, 1.0]]).max() < 0.3
    assert model.predict(Xm).shape == (600,)


def test_gaussian_family_through_mixture_matches_gaussian_mixture_with_missing_values():
    X, rng = _mixed_table(300, seed=8)
    Xm = _remove(X[:, [0, 2]], 0.2, rng)
    spec = {"family": "gaussian", "covariance_type": "full", "reg_covar": 0.0}
    a = emix.Mixture(2, family=spec, random_state=0, max_iter=50, tol=0).fit(Xm)
    b = emix.GaussianMixture(2, reg_covar=0.0, random_state=0, max_iter=50, tol=0).fit(Xm)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-10)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-10)


# -- errors ------------------------------------------------------------------------------------------
def test_row_with_no_observed_value_is_named():
    X = np.array([[0, 1, 1], [np.nan, np.nan, np.nan], [1, 0, np.nan], [0, 0, 1]], dtype=float)
    with pytest.raises(InvalidInputError, match=r"row 1 has no observed value"):
        emix.BernoulliMixture(2).fit(X)
    model = emix.BernoulliMixture(2, random_state=0).fit(X[[0, 2, 3]])
    with pytest.raises(InvalidInputError, match=r"row 1 has no observed value"):
        model.predict(X)


def test_product_row_missing_in_every_column_is_named():
    X, rng = _mixed_table(50, seed=9)
    X[7] = np.nan
    with pytest.raises(InvalidInputError, match=r"row 7 has no observed value"):
        emix.Mixture(2, family=_product_family()).fit(X)


@pytest.mark.parametrize(
    ("estimator", "X", "message"),
    [
        (emix.BernoulliMixture(2), [[0, np.nan], [np.nan, 2], [1, 1]], r"value 2\.0 at row 1, column 1"),
        (emix.PoissonMixture(2), [[np.nan, 1], [1.5, np.nan], [1, 1]], r"value 1\.5 at row 1, column 0"),
        (
            emix.Mixture(2, family="exponential"),
            [[np.nan, 1], [1, -3], [1, 1]],
            r"value -3\.0 at row 1, column 1",
        ),
        (
            emix.Mixture(2, family="categorical"),
            [[np.nan, 1], [1, 0.5], [1, 1]],
            r"value 0\.5 at row 1, column 1",
        ),
    ],
)
def test_bad_observed_value_is_still_named(estimator, X, message):
    with pytest.raises(InvalidInputError, match=message):
        estimator.fit(np.array(X, dtype=float))


def test_column_with_no_observed_value_is_an_error():
    X = np.array([[0, np.nan], [1, np.nan], [1, np.nan]])
    with pytest.raises(InvalidInputError, match=r"column 1 has no observed value"):
        emix.BernoulliMixture(2).fit(X)


def test_student_t_rejects_missing_values_by_row_and_column():
    X = np.random.default_rng(0).normal(size=(20, 2))
    X[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match=r"NaN at row 3, column 1"):
        emix.StudentMixture(2).fit(X)
    model = emix.StudentMixture(2, random_state=0).fit(np.delete(X, 3, axis=0))
    with pytest.raises(InvalidInputError, match=r"NaN at row 3, column 1"):
        model.predict(X)


def test_student_part_of_a_product_rejects_missing_values():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=30), rng.integers(0, 3, 30)]).astype(float)
    X[4, 1] = np.nan  # the categorical part may miss values
    X[5, 0] = np.nan  # the Student-t part may not
    fam = ProductFamily([(make_family("student"), [0]), (make_family("categorical"), [1])])
    with pytest.raises(InvalidInputError, match=r"NaN\) at row 5, column 0.*student family does not handle"):
        emix.Mixture(2, family=fam).fit(X)
    X[5, 0] = 0.0
    emix.Mixture(2, family=fam, random_state=0).fit(X)
