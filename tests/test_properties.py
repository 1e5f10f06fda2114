"""Invariants of EM, checked on generated data with hypothesis."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import emix
from emix.exceptions import ConvergenceWarning

COV_TYPES = ["full", "tied", "diag", "spherical"]

pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")


@st.composite
def mixture_data(draw, max_d=4):
    seed = draw(st.integers(0, 2**31 - 1))
    d = draw(st.integers(1, max_d))
    k = draw(st.integers(1, 4))
    n = draw(st.integers(8 * k * (d + 1), 200))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    offset = draw(st.sampled_from([0.0, 1e4]))
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(k, d))
    X = centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))
    return X * scale + offset, k, seed


@given(mixture_data(), st.sampled_from(COV_TYPES))
def test_log_likelihood_never_decreases(data, cov):
    X, k, seed = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = emix.GaussianMixture(
            k, covariance_type=cov, reg_covar=0.0, tol=0.0, max_iter=30, random_state=seed
        ).fit(X)
    h = m.history_
    assert np.isfinite(h).all()
    drops = h[:-1] - h[1:]
    assert np.all(drops <= 1e-9 * np.abs(h[:-1]) + 1e-12), drops.max()


@given(
    mixture_data(),
    st.sampled_from(COV_TYPES),
    st.integers(1, 50),
    st.sampled_from(["kmeans", "k-means++", "random", "random_from_data"]),
)
def test_result_does_not_depend_on_chunk_size(data, cov, chunk, init):
    X, k, seed = data
    kw = dict(covariance_type=cov, tol=0.0, max_iter=10, random_state=seed, init_params=init)
    a = emix.GaussianMixture(k, chunk_size=chunk, **kw).fit(X)
    b = emix.GaussianMixture(k, chunk_size=X.shape[0], **kw).fit(X)
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-7, atol=1e-9 * np.abs(X).max())
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-7, atol=1e-12)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9, abs=1e-9)


@given(mixture_data(max_d=3), st.sampled_from(COV_TYPES))
def test_same_random_state_same_model(data, cov):
    X, k, seed = data
    a = emix.GaussianMixture(k, covariance_type=cov, random_state=seed, n_init=2).fit(X)
    b = emix.GaussianMixture(k, covariance_type=cov, random_state=seed, n_init=2).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    np.testing.assert_array_equal(a.history_, b.history_)


@given(mixture_data(max_d=3), st.sampled_from(COV_TYPES))
def test_row_permutation_does_not_change_fit(data, cov):
    X, k, seed = data
    perm = np.random.default_rng(seed).permutation(X.shape[0])
    # same starting parameters; the fit itself must not care about row order
    start = emix.GaussianMixture(k, covariance_type=cov, max_iter=0, random_state=seed).fit(X)
    init = dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)
    a = emix.GaussianMixture(k, covariance_type=cov, tol=0, max_iter=20, **init).fit(X)
    b = emix.GaussianMixture(k, covariance_type=cov, tol=0, max_iter=20, **init).fit(X[perm])
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)


@given(mixture_data(), st.sampled_from(COV_TYPES))
def test_responsibilities_are_a_distribution(data, cov):
    X, k, seed = data
    m = emix.GaussianMixture(k, covariance_type=cov, random_state=seed, max_iter=5).fit(X)
    R = m.predict_proba(X)
    assert R.shape == (X.shape[0], k)
    assert np.all(R >= 0)
    np.testing.assert_allclose(R.sum(axis=1), 1.0, rtol=1e-12)
    assert np.isclose(m.weights_.sum(), 1.0)


def test_statistics_of_whole_equal_sum_of_parts():
    from emix.families.gaussian import GaussianFamily

    rng = np.random.default_rng(1)
    X = rng.normal(size=(101, 3))
    R = rng.dirichlet(np.ones(4), size=101)
    centre = rng.normal(size=(4, 3))
    for cov in COV_TYPES:
        fam = GaussianFamily(cov)
        whole = fam.accumulate(X, R, centre)
        parts = fam.accumulate(X[:40], R[:40], centre) + fam.accumulate(X[40:], R[40:], centre)
        for f in ("nk", "s1", "s2"):
            np.testing.assert_allclose(getattr(whole, f), getattr(parts, f), rtol=1e-12, atol=1e-12)
