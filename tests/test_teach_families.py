"""The teaching trace for every family: the EM identities hold at every step, and the numbers are the engine's."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from teach_cases import INEXACT, cases

import emix
from emix.teach import trace_em

CASES = cases()
N_ITER = 6


def scale(value: float) -> float:
    """Tolerances are relative to the size of the log-likelihood (a sum over the rows)."""
    return max(1.0, abs(value))


@pytest.fixture(scope="module", params=sorted(CASES))
def traced(request):
    X, kw = CASES[request.param]
    return request.param, trace_em(X, 2, n_iter=N_ITER, **kw)


@pytest.fixture(scope="module", params=sorted(INEXACT))
def traced_inexact(request):
    X, kw = INEXACT[request.param](CASES)
    return request.param, trace_em(X, 2, n_iter=N_ITER, **kw)


def test_every_case_is_exact_and_runs_all_iterations(traced):
    name, tr = traced
    assert tr.exact_m_step, name
    assert [s.step for s in tr.steps] == ["E", "M"] * N_ITER
    assert [s.iteration for s in tr.steps] == [i for i in range(1, N_ITER + 1) for _ in "EM"]


def test_kl_is_zero_after_every_e_step(traced):
    _, tr = traced
    for s in (tr.initial, *[s for s in tr.steps if s.step == "E"]):
        assert abs(s.kl) <= 1e-12
        assert abs(s.lower_bound - s.log_likelihood) <= 1e-12 * scale(s.log_likelihood)
        np.testing.assert_allclose(s.responsibilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_bound_plus_kl_is_the_log_likelihood_at_every_step(traced, traced_inexact):
    for _, tr in (traced, traced_inexact):
        for s in tr.states:
            assert s.kl >= -1e-12
            assert s.lower_bound + s.kl == pytest.approx(
                s.log_likelihood, abs=1e-10 * scale(s.log_likelihood)
            )
            assert s.expected_complete + s.entropy == pytest.approx(
                s.lower_bound, abs=1e-10 * scale(s.lower_bound)
            )


def test_m_step_raises_q_and_the_bound_never_falls(traced):
    name, tr = traced
    states = tr.states
    for a, b in zip(states, states[1:]):
        tol = 1e-10 * scale(a.lower_bound)
        assert b.lower_bound >= a.lower_bound - tol, (name, b.label)
        assert b.log_likelihood >= a.log_likelihood - tol, (name, b.label)
    for e, m in zip(tr.steps[::2], tr.steps[1::2]):
        rise_q = m.expected_complete - e.expected_complete
        assert rise_q >= -1e-10 * scale(e.expected_complete), (name, m.label)
        # q is fixed through the M-step, so H(q) is too: L rises exactly as much as Q
        assert m.lower_bound - e.lower_bound == pytest.approx(rise_q, abs=1e-9 * scale(e.lower_bound))
        assert m.entropy == e.entropy
        # ln p rises by the bound's rise and the KL the next E-step closes
        assert m.log_likelihood - e.log_likelihood == pytest.approx(
            rise_q + m.kl, abs=1e-9 * scale(e.log_likelihood)
        )
    assert states[-1].log_likelihood > states[0].log_likelihood


def test_json_carries_the_numbers_of_every_step(traced):
    name, tr = traced
    got = json.loads(json.dumps(tr.to_dict()))
    assert got["family"]["family"] == tr.family_name
    assert len(got["steps"]) == 2 * N_ITER
    for step in [got["initial"], *got["steps"]]:
        for key in ("log_likelihood", "lower_bound", "kl", "expected_complete", "entropy"):
            assert isinstance(step[key], float), (name, key)
        assert len(step["responsibilities"]) == tr.X.shape[0]
        assert set(tr.steps[0].arrays) <= set(step)
    assert all(abs(s["kl"]) <= 1e-12 for s in got["steps"] if s["step"] == "E")


def test_first_m_step_is_the_estimators_one_iteration_fit(traced):
    name, tr = traced
    X = tr.X
    init = CASES[name][1].get("init_params", "kmeans")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        model = emix.Mixture(
            2, family=tr.family.spec(), max_iter=1, tol=0, accelerate=False, random_state=0, init_params=init
        ).fit(X)
    m1 = tr.steps[1]
    np.testing.assert_allclose(m1.weights, model.weights_, rtol=1e-10, atol=1e-14)
    arrays = model._make_family().to_arrays(model._fitted_params().components)
    for key, value in arrays.items():
        if key in m1.arrays and "covariances" not in key:
            np.testing.assert_allclose(
                m1.arrays[key], value, rtol=1e-10, atol=1e-14, err_msg=f"{name}: {key}"
            )
    assert m1.log_likelihood == pytest.approx(model.history_[1], rel=1e-10)
    assert tr.steps[0].log_likelihood == pytest.approx(model.history_[0], rel=1e-10)


def test_student_shows_its_scale_weights():
    X, kw = CASES["student"]
    tr = trace_em(X, 2, n_iter=2, **kw)
    e = tr.steps[0]
    u = e.latent["u"]
    assert u.shape == (X.shape[0], 2) and (u > 0).all()
    # the weights the family's own statistics use: sum_n r_nk u_nk is its U_k
    fam, params = tr.family, e.params.components
    stats = fam.accumulate(X, e.responsibilities, fam.anchor(params))
    np.testing.assert_allclose((e.responsibilities * u).sum(axis=0), stats.su, rtol=1e-12)
    # a point far from every centre weighs little: u falls with the distance
    far = np.vstack([X, [[40.0, 40.0]]])
    assert fam.latent_expectations(far, params)["u"][-1].max() < 0.05
    # the M-step record shows the same u its M-step used
    np.testing.assert_array_equal(tr.steps[1].latent["u"], u)
    assert tr.to_dict()["steps"][0]["latent"]["u"][0] == pytest.approx(u[0].tolist())


def test_product_names_the_parts_latent_variables():
    X, kw = CASES["product-with-student"]
    tr = trace_em(X, 2, n_iter=1, **kw)
    assert set(tr.steps[0].latent) == {"part0_u"}
    X, kw = CASES["product"]
    assert trace_em(X, 2, n_iter=1, **kw).steps[0].latent == {}


def test_digits_with_the_default_pseudo_count():
    from sklearn.datasets import load_digits

    X = (load_digits().data[:400] > 7).astype(float)
    tr = trace_em(X, 6, family="bernoulli", n_iter=4)
    assert not tr.exact_m_step
    assert tr.steps[0].arrays["probabilities"].shape == (6, 64)
    for s in tr.states:
        assert s.lower_bound + s.kl == pytest.approx(s.log_likelihood, abs=1e-10 * scale(s.log_likelihood))
    assert tr.steps[-1].log_likelihood > tr.initial.log_likelihood


def test_missing_values_are_traced_where_the_family_allows_them():
    X, kw = CASES["poisson"]
    X = X.copy()
    X[3, 1] = np.nan
    tr = trace_em(X, 2, n_iter=3, **kw)
    for s in tr.states:
        assert s.lower_bound + s.kl == pytest.approx(s.log_likelihood, abs=1e-10 * scale(s.log_likelihood))
    assert json.loads(json.dumps(tr.to_dict()))["X"][3][1] is None


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(family="lognormal"), emix.InvalidParameterError, "unknown family 'lognormal'"),
        (dict(family="poisson", covariance_type="full"), emix.InvalidParameterError, "no covariance_type"),
        (dict(family="gaussian", alpha=0.1), emix.InvalidParameterError, "the gaussian family has no alpha"),
        (
            dict(family={"family": "poisson"}, alpha=0.1),
            emix.InvalidParameterError,
            "carries its own options",
        ),
        (
            dict(family="poisson", means_init=[[1.0, 1.0], [2.0, 2.0]]),
            emix.InvalidParameterError,
            "give params_init",
        ),
        (dict(family="poisson", n_iter=0), emix.InvalidInputError, "n_iter must be at least 1"),
    ],
)
def test_trace_errors_name_the_problem(kwargs, error, message):
    X, _ = CASES["poisson"]
    with pytest.raises(error, match=message):
        trace_em(X, 2, **kwargs)


def test_trace_checks_the_support_and_the_size():
    with pytest.raises(emix.InvalidInputError, match="non-negative integers"):
        trace_em([[0.5, 1.0], [1.0, 2.0], [3.0, 1.0]], 2, family="poisson")
    with pytest.raises(emix.InvalidInputError, match="at most 10000"):
        trace_em(np.zeros((10_001, 1)) + np.arange(10_001)[:, None], 2)


def test_a_trace_starts_from_params_init():
    X, kw = CASES["poisson"]
    start = {"rates": [[1.0, 1.0], [9.0, 9.0]]}
    tr = trace_em(X, 2, n_iter=1, weights_init=[0.3, 0.7], params_init=start, **kw)
    np.testing.assert_array_equal(tr.initial.arrays["rates"], start["rates"])
    np.testing.assert_array_equal(tr.initial.weights, [0.3, 0.7])
