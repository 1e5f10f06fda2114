"""Rows far from every component (issue 12): densities finite where floats allow, responsibilities defined.

The references are exact: the squared distances ``|(x - mu_k) U_k|^2`` are computed
in rational arithmetic (``fractions.Fraction``) from the fitted floats, so no
overflow and no rounding stands between them and the answer.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import emix
from emix import InvalidInputError
from emix.engine import log_joint
from emix.families.gaussian import far

MODELS = ["full", "tied", "diag", "spherical", "EII", "VEV", "EEE", "VVI"]
FAR_ROWS = np.array(
    [[1e200, 0.0], [1e200, 1e200], [-3e250, 7.0], [1.5e154, 0.0], [1e150, 3.0], [2e16, -1e16]]
)


def _model(cov, seed=0):
    rng = np.random.default_rng(seed)
    X = np.r_[rng.standard_normal((150, 2)), rng.standard_normal((150, 2)) * 0.7 + [4.0, 1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return emix.GaussianMixture(2, covariance_type=cov, random_state=seed).fit(X)


def _exact_joint(m, x):
    """``(log pi_k + log N(x | k)) = -q_k / 2 + b_k`` with ``q_k`` exact, as (q Fractions, b floats)."""
    family = m._make_family()
    params = m._fitted_params()
    means, pc = params.components.means, params.components.precisions_cholesky
    U = far.dense_factors(family.model, pc, *means.shape)
    b = np.diagonal(family.model.log_prob(means, means, pc)) + np.log(params.weights)
    qs = []
    for k in range(means.shape[0]):
        r = [Fraction(float(x[d])) - Fraction(float(means[k, d])) for d in range(means.shape[1])]
        y = [sum(r[d] * Fraction(float(U[k, d, e])) for d in range(len(r))) for e in range(len(r))]
        qs.append(sum(v * v for v in y))
    return qs, b


def _exact_posterior(m, x):
    qs, b = _exact_joint(m, x)
    j = min(range(len(qs)), key=lambda k: (qs[k], -b[k]))
    rel = []
    for k in range(len(qs)):
        gap = (qs[k] - qs[j]) / 2
        rel.append(-math.inf if gap > 1e300 else float(b[k] - b[j]) - float(gap))
    rel = np.array(rel)
    top = rel.max()
    resp = np.exp(rel - top) / np.exp(rel - top).sum()
    half = qs[j] / 2
    log_p = -math.inf if half > Fraction(1.7e308) else -float(half) + b[j] + np.log(np.exp(rel).sum())
    return resp, log_p


@pytest.mark.parametrize("cov", MODELS)
def test_far_rows_get_the_exact_responsibilities_and_finite_densities_where_floats_allow(cov):
    m = _model(cov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning escapes either
        resp = m.predict_proba(FAR_ROWS)
        dens = m.score_samples(FAR_ROWS)
        labels = m.predict(FAR_ROWS)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-15)
    for i, x in enumerate(FAR_ROWS):
        ref_resp, ref_log_p = _exact_posterior(m, x)
        np.testing.assert_allclose(resp[i], ref_resp, atol=1e-12, err_msg=f"row {i}")
        assert labels[i] == np.argmax(ref_resp)
        if math.isinf(ref_log_p):
            assert dens[i] == -np.inf
        else:
            assert dens[i] == pytest.approx(ref_log_p, rel=1e-12), i


@pytest.mark.parametrize("cov", MODELS)
def test_the_careful_path_agrees_with_the_ordinary_one_on_ordinary_rows(cov):
    m = _model(cov, seed=1)
    X = np.random.default_rng(2).normal(scale=5.0, size=(50, 2))
    family, params = m._make_family(), m._fitted_params()
    base, rel = family.far_log_joint(X, params.components, np.log(params.weights))
    np.testing.assert_allclose(base[:, None] + rel, log_joint(family, X, params), rtol=1e-12)


def test_ordinary_rows_are_not_touched():
    m = _model("full")
    X = np.random.default_rng(3).normal(size=(40, 2))
    family, params = m._make_family(), m._fitted_params()
    lj = log_joint(family, X, params)
    np.testing.assert_array_equal(m.predict(X), lj.argmax(axis=1))
    log_p = np.logaddexp.reduce(lj, axis=1)
    np.testing.assert_allclose(m.score_samples(X), log_p, rtol=1e-15)


def test_a_far_row_among_ordinary_rows_in_a_chunk_and_a_source():
    m = _model("diag")
    X = np.r_[np.zeros((5, 2)), [[1e200, 0.0]], np.ones((5, 2))]
    R = m.predict_proba(emix.sources.ArraySource(X, None, 4))
    assert np.isfinite(R).all() and np.allclose(R.sum(axis=1), 1.0)
    np.testing.assert_array_equal(R, m.predict_proba(X))


def _impossible_bernoulli():
    Xb = np.r_[np.zeros((50, 2)), np.ones((50, 2)) * [0, 1]]
    return emix.BernoulliMixture(2, alpha=0, random_state=0).fit(Xb)


def test_a_row_impossible_under_every_component_is_named_and_its_density_is_minus_inf():
    b = _impossible_bernoulli()
    rows = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert b.score_samples(rows)[3] == -np.inf
    assert np.isfinite(b.score_samples(rows)[:3]).all()
    for method in (b.predict_proba, b.predict):
        with pytest.raises(InvalidInputError, match=r"X row 3 has probability zero under every component"):
            method(rows)
    with pytest.raises(InvalidInputError, match=r"row 5 has probability zero.*alpha > 0"):
        b.predict_proba(emix.sources.ArraySource(np.r_[rows[:3], rows[:2], rows[3:]], None, 2))


def test_far_rows_of_a_float32_model():
    m = _model("full")
    X32 = np.random.default_rng(0).standard_normal((100, 2)).astype(np.float32)
    m32 = emix.GaussianMixture(2, random_state=0).fit(X32)
    R = m32.predict_proba(np.array([[3e30, 0.0]], dtype=np.float32))
    assert R.dtype == np.float32 and np.isfinite(R).all() and R.sum() == pytest.approx(1.0)
    assert m.predict([[1e200, 0.0]]).shape == (1,)


def _exact_student_log_density(m, x):
    """``log p(x)`` of a Student-t mixture with the distances exact (logs of big integers)."""
    family, params = m._make_family(), m._fitted_params()
    c = params.components
    d = len(x)
    U = far.dense_factors(family.model, c.precisions_cholesky, *c.means.shape)
    terms = []
    for k in range(c.means.shape[0]):
        r = [Fraction(float(x[i])) - Fraction(float(c.means[k, i])) for i in range(d)]
        y = [sum(r[i] * Fraction(float(U[k, i, e])) for i in range(d)) for e in range(d)]
        q = sum(v * v for v in y)
        nu = float(c.dof[k])
        log_q = math.log(q.numerator) - math.log(q.denominator)
        log1p = np.logaddexp(0.0, log_q - math.log(nu))
        const = math.lgamma(0.5 * (nu + d)) - math.lgamma(0.5 * nu) - 0.5 * d * math.log(nu * math.pi)
        half_logdet = float(np.log(np.abs(np.diag(U[k]))).sum())
        terms.append(math.log(params.weights[k]) + const + half_logdet - 0.5 * (nu + d) * log1p)
    return float(np.logaddexp.reduce(terms))


@pytest.mark.parametrize("cov", ["full", "tied", "diag", "spherical"])
def test_student_far_rows_keep_their_finite_heavy_tailed_density(cov):
    rng = np.random.default_rng(4)
    X = np.r_[rng.standard_normal((200, 2)), rng.standard_normal((200, 2)) + 5.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = emix.StudentMixture(2, covariance_type=cov, random_state=0).fit(X)
    rows = np.array([[1e200, 0.0], [-1e300, 1e300], [1e100, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dens, resp = m.score_samples(rows), m.predict_proba(rows)
    assert np.isfinite(dens).all() and np.isfinite(resp).all()
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-15)
    for i, x in enumerate(rows):
        assert dens[i] == pytest.approx(_exact_student_log_density(m, x), rel=1e-12)


def test_bayesian_far_row_is_placed():
    X = np.random.default_rng(5).standard_normal((200, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = emix.BayesianGaussianMixture(n_components=2, random_state=0).fit(X)
        R = m.predict_proba([[1e200, 0.0], [0.0, 1e250]])
    assert np.isfinite(R).all() and np.allclose(R.sum(axis=1), 1.0)
    assert np.isin(R, [0.0, 1.0]).all()  # infinitely far: one component is infinitely more likely
