"""The teaching trace: its numbers are the library's own, and the EM identities hold."""

import warnings

import numpy as np
import pytest

import emix
from emix.exceptions import InvalidInputError
from emix.teach.trace import em_path, trace_em, trace_lecture_example


@pytest.fixture(scope="module")
def lecture():
    return trace_lecture_example(n_iter=4)


def test_first_iteration_equals_one_iteration_fit(lecture):
    X, init = emix.datasets.load_lecture_example(return_init=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        gm = emix.GaussianMixture(2, max_iter=1, tol=0, reg_covar=0, **init).fit(X)
    e1, m1 = lecture.steps[0], lecture.steps[1]
    assert (e1.step, m1.step) == ("E", "M")
    np.testing.assert_allclose(m1.weights, gm.weights_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(m1.means, gm.means_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(m1.covariances, gm.covariances_, rtol=1e-13, atol=1e-15)
    # history_: ln p at the start, then of the one-step parameters
    assert e1.log_likelihood == pytest.approx(gm.history_[0], rel=1e-13)
    assert m1.log_likelihood == pytest.approx(gm.history_[1], rel=1e-13)
    # the E-step's responsibilities are predict_proba under the start (a max_iter=0 fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        start = emix.GaussianMixture(2, max_iter=0, reg_covar=0, **init).fit(X)
    np.testing.assert_allclose(e1.responsibilities, start.predict_proba(X), rtol=1e-12, atol=1e-300)


def test_lecture_start(lecture):
    s = lecture.initial
    np.testing.assert_array_equal(s.weights, [0.6, 0.4])
    np.testing.assert_array_equal(s.means, [[4.5, 2.5], [2.5, 5.0]])
    np.testing.assert_array_equal(s.covariances, [np.eye(2), np.eye(2)])
    assert lecture.reg_covar == 0.0
    assert lecture.X.shape == (6, 2)


def test_e_step_closes_the_gap_and_identity_holds(lecture):
    for s in lecture.steps:
        assert s.kl >= -1e-12
        assert s.lower_bound + s.kl == pytest.approx(s.log_likelihood, abs=1e-10)
        if s.step == "E":
            assert abs(s.kl) <= 1e-12
            assert s.lower_bound == pytest.approx(s.log_likelihood, abs=1e-12)
        np.testing.assert_allclose(s.responsibilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_kl_is_computed_directly_and_positive_after_first_m_step(lecture):
    m1 = lecture.steps[1]
    # from its definition: sum q (ln q - ln posterior under the new theta)
    X = lecture.X
    from scipy.stats import multivariate_normal

    joint = np.column_stack(
        [m1.weights[k] * multivariate_normal(m1.means[k], m1.covariances[k]).pdf(X) for k in range(2)]
    )
    post = joint / joint.sum(axis=1, keepdims=True)
    q = m1.responsibilities
    kl = float(np.sum(q * (np.log(q) - np.log(post))))
    assert m1.kl == pytest.approx(kl, rel=1e-6)
    assert m1.kl > 1e-3
    assert m1.log_likelihood == pytest.approx(np.log(joint.sum(axis=1)).sum(), rel=1e-12)


def test_staircase_is_monotone(lecture):
    states = [lecture.initial, *lecture.steps]
    bounds = [s.lower_bound for s in states]
    lls = [s.log_likelihood for s in states]
    assert all(b2 >= b1 - 1e-10 for b1, b2 in zip(bounds, bounds[1:], strict=False))
    assert all(l2 >= l1 - 1e-10 for l1, l2 in zip(lls, lls[1:], strict=False))


def test_trace_any_data_and_json_roundtrip():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (10, 2)), rng.normal(5, 1, (10, 2))])
    tr = trace_em(X, 2, n_iter=2, covariance_type="diag", random_state=0)
    assert [s.step for s in tr.steps] == ["E", "M", "E", "M"]
    assert tr.steps[0].covariances.shape == (2, 2, 2)
    d = tr.to_dict()
    assert d["steps"][1]["step"] == "M" and len(d["steps"][1]["responsibilities"]) == 20
    assert all(abs(s["kl"]) <= 1e-12 for s in d["steps"] if s["step"] == "E")


def test_trace_rejects_bad_input():
    with pytest.raises(InvalidInputError, match="n_iter"):
        trace_em(np.zeros((5, 2)) + np.arange(5)[:, None], 2, n_iter=0)


def test_em_path_reproduces_the_fit():
    X = emix.datasets.load_faithful()
    gm = emix.GaussianMixture(2, random_state=0, n_init=2).fit(X)
    path = em_path(gm, X)
    assert 2 <= len(path) <= gm.n_iter_ + 1
    np.testing.assert_allclose(path[-1].components.means, gm.means_, rtol=1e-12)
    np.testing.assert_allclose(path[-1].weights, gm.weights_, rtol=1e-12)
