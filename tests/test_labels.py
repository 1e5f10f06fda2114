"""Partial labels: semi-supervised EM with fit(X, labels=y), y = component index or -1; y itself is ignored."""

import numpy as np
import pytest
from helpers import make_blobs
from scipy import stats

import emix
from emix import InputTypeError, InvalidInputError


def crossing_clusters(n=2000, seed=0):
    """Two long clusters crossing at the origin: unlabelled EM often splits them wrongly."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    c0 = np.array([[4.0, 3.8], [3.8, 4.0]])
    c1 = np.array([[4.0, -3.8], [-3.8, 4.0]])
    X = np.where(
        z[:, None] == 0, rng.multivariate_normal([0, 0], c0, n), rng.multivariate_normal([1.0, 0], c1, n)
    )
    y = np.full(n, -1)
    known = rng.random(n) < 0.1
    y[known] = z[known]
    return X, z, y


def test_ten_percent_labels_fix_switching_and_beat_unlabelled_em():
    X, z, y = crossing_clusters()
    assert 0.08 < np.mean(y >= 0) < 0.12
    plain, semi = [], []
    for seed in range(6):
        p = emix.GaussianMixture(2, random_state=seed).fit(X).predict(X)
        plain.append(max(np.mean(p == z), np.mean(p != z)))  # best matching of components
        m = emix.GaussianMixture(2, random_state=seed).fit(X, labels=y)
        semi.append(np.mean(m.predict(X) == z))  # no matching needed: component k is label k
        # label switching is fixed: component 0 is the cluster labelled 0 (positive correlation)
        np.testing.assert_allclose(m.covariances_[0, 0, 1], 3.8, rtol=0.1)
        np.testing.assert_allclose(m.covariances_[1, 0, 1], -3.8, rtol=0.1)
    assert min(plain) < 0.6  # some starts split the crossing clusters the wrong way
    assert min(semi) > 0.85  # with 10% labels every start finds them
    assert np.mean(semi) > np.mean(plain)


def test_objective_is_the_semi_supervised_likelihood_and_never_decreases():
    X, z, y = crossing_clusters(n=600, seed=1)
    m = emix.GaussianMixture(2, random_state=0, reg_covar=0.0).fit(X, labels=y)
    h = m.history_
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1]))
    # direct computation: unlabelled rows log p(x), labelled rows log pi_y + log N(x | y)
    dens = np.column_stack(
        [m.weights_[k] * stats.multivariate_normal(m.means_[k], m.covariances_[k]).pdf(X) for k in range(2)]
    )
    known = y >= 0
    direct = np.log(dens[~known].sum(axis=1)).sum() + np.log(dens[known, y[known]]).sum()
    assert m.log_likelihood_ == pytest.approx(direct, rel=1e-10)


# tol=0, max_iter=1: one iteration by design
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_labelled_rows_keep_their_responsibility():
    # a row labelled 1 but sitting in cluster 0 pulls component 1 with full weight
    X, z, y = crossing_clusters(n=400, seed=2)
    m = emix.GaussianMixture(2, random_state=0, tol=0, max_iter=1, accelerate=False).fit(X, labels=y)
    m_no = emix.GaussianMixture(2, random_state=0, tol=0, max_iter=1, accelerate=False).fit(X)
    assert not np.allclose(m.means_, m_no.means_)


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical", "VEV"])
def test_labels_with_every_covariance_model_and_chunking(cov):
    X, z, y = crossing_clusters(n=500, seed=3)
    a = emix.GaussianMixture(2, covariance_type=cov, random_state=0, chunk_size=37).fit(X, labels=y)
    b = emix.GaussianMixture(2, covariance_type=cov, random_state=0, chunk_size=500).fit(X, labels=y)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-7, atol=1e-9)


# tol=0: exactly max_iter iterations
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_labels_with_weights_equal_repetition():
    X, z, y = crossing_clusters(n=300, seed=4)
    w = np.random.default_rng(0).integers(1, 4, 300)
    kw = dict(n_components=2, random_state=0, tol=0, max_iter=20, accelerate=False)
    a = emix.GaussianMixture(**kw).fit(X, labels=y, sample_weight=w)
    b = emix.GaussianMixture(**kw).fit(np.repeat(X, w, axis=0), labels=np.repeat(y, w))
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-9)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-9)


def test_labels_for_other_families():
    rng = np.random.default_rng(5)
    z = rng.integers(0, 2, 1000)
    X = rng.poisson(np.where(z[:, None] == 0, [3.0, 6.0], [6.0, 3.0]))
    y = np.where(rng.random(1000) < 0.1, z, -1)
    m = emix.PoissonMixture(2, random_state=0).fit(X, labels=y)
    assert np.mean(m.predict(X) == z) > 0.75
    np.testing.assert_allclose(m.rates_, [[3, 6], [6, 3]], rtol=0.15)


def test_all_unlabelled_is_plain_em():
    X, z, y = crossing_clusters(n=300, seed=6)
    a = emix.GaussianMixture(2, random_state=0).fit(X, labels=np.full(300, -1))
    b = emix.GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)


@pytest.mark.parametrize(
    "y, error, message",
    [
        (np.zeros(5), InvalidInputError, r"y has shape \(5,\); expected \(300,\)"),
        (
            np.full(300, 2),
            InvalidInputError,
            r"y has label 2 at row 0; labels must be -1 \(unknown\) or 0..1",
        ),
        (np.r_[np.zeros(10), -3, np.zeros(289)], InvalidInputError, "y has label -3 at row 10"),
        (
            np.r_[np.zeros(7), 0.5, np.zeros(292)],
            InvalidInputError,
            "y has 0.5 at row 7; labels are whole numbers",
        ),
        (np.array(["a"] * 300), InputTypeError, "y must hold integers"),
    ],
)
def test_bad_labels(y, error, message):
    X, *_ = crossing_clusters(n=300)
    with pytest.raises(error, match=message):
        emix.GaussianMixture(2).fit(X, labels=y)


def test_y_is_ignored_as_in_scikit_learn():
    X, y = make_blobs(n=300, k=3)
    kw = dict(n_components=3, random_state=0)
    a = emix.GaussianMixture(**kw).fit(X, y)
    b = emix.GaussianMixture(**kw).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(emix.GaussianMixture(**kw).fit_predict(X, y), b.predict(X))
