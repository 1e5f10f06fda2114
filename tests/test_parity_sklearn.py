"""Same start, same iterations: emix and scikit-learn agree to 1e-6 relative."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_iris, load_wine  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

import emix  # noqa: E402

LOADERS = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}
COV_TYPES = ["full", "tied", "diag", "spherical"]


def standardised(name):
    X = LOADERS[name]().data.astype(float)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("name", list(LOADERS))
def test_same_start_same_result(name, cov):
    X = standardised(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = SkGM(3, covariance_type=cov, max_iter=1, random_state=0).fit(X)
        init = dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)
        sk = SkGM(3, covariance_type=cov, tol=0, max_iter=15, **init).fit(X)
        # plain EM, as scikit-learn runs it (acceleration would take other steps)
        em = emix.GaussianMixture(3, covariance_type=cov, tol=0, max_iter=15, accelerate=False, **init).fit(X)
    assert em.n_iter_ == sk.n_iter_ == 15
    assert rel_err(em.weights_, sk.weights_) < 1e-6
    assert rel_err(em.means_, sk.means_) < 1e-6
    assert rel_err(em.covariances_, sk.covariances_) < 1e-6
    assert rel_err(em.precisions_cholesky_, sk.precisions_cholesky_) < 1e-6
    # the densities and posteriors of the fitted models agree too
    np.testing.assert_allclose(em.score_samples(X), sk.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(em.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    # emix's history holds the log-likelihood at the start of each iteration;
    # sklearn's lower_bound_ is the mean log-likelihood at the start of the last one
    assert em.history_[-2] / X.shape[0] == pytest.approx(sk.lower_bound_, rel=1e-9)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_score_bic_aic_match_sklearn_on_same_parameters(cov):
    X = standardised("iris")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkGM(3, covariance_type=cov, random_state=0, max_iter=5).fit(X)
        em = emix.GaussianMixture(
            3,
            covariance_type=cov,
            max_iter=5,
            tol=0,
            weights_init=sk.weights_,
            means_init=sk.means_,
            precisions_init=sk.precisions_,
        ).fit(X)
        em_start = emix.GaussianMixture(
            3,
            covariance_type=cov,
            max_iter=0,
            weights_init=sk.weights_,
            means_init=sk.means_,
            precisions_init=sk.precisions_,
        ).fit(X)
    # a model fitted with max_iter=0 keeps the initial parameters: sklearn's fitted ones
    assert em_start.score(X) == pytest.approx(sk.score(X), rel=1e-10)
    assert em_start.bic(X) == pytest.approx(sk.bic(X), rel=1e-10)
    assert em_start.aic(X) == pytest.approx(sk.aic(X), rel=1e-10)
    assert em_start._n_parameters() == sk._n_parameters()
    assert em.score(X) >= em_start.score(X) - 1e-9
