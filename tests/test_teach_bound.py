"""The bound for any q (Jensen's gap), its checks, the bound along an M-step, and ancestral sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from teach_cases import cases

import emix
from emix.engine import MixtureParams
from emix.teach import ancestral_sample, bound, bound_slice, trace_em

CASES = cases()


def random_q(rng, n, k, concentration=1.0):
    return rng.dirichlet(np.full(k, concentration), size=n)


@pytest.fixture(scope="module", params=sorted(CASES))
def traced(request):
    X, kw = CASES[request.param]
    return request.param, trace_em(X, 3, n_iter=3, **kw)


def test_bound_plus_kl_is_ln_p_for_random_q_every_family(traced):
    name, tr = traced
    rng = np.random.default_rng(1)
    for s in tr.states:
        params = s.params
        possible = bound((tr.family, params), tr.X).posterior > 0  # q_nk > 0 elsewhere makes L = -inf
        for conc in (0.1, 1.0, 10.0):
            q = random_q(rng, tr.X.shape[0], 3, conc) * possible
            q /= q.sum(axis=1, keepdims=True)
            b = bound((tr.family, params), tr.X, q)
            tol = 1e-10 * max(1.0, abs(b.log_likelihood))
            assert b.lower_bound + b.kl == pytest.approx(b.log_likelihood, abs=tol), name
            assert b.kl > 0 and b.gap == pytest.approx(b.kl, abs=tol)
            assert b.expected_complete + b.entropy == pytest.approx(b.lower_bound, abs=tol)
            assert b.log_likelihood == pytest.approx(s.log_likelihood, rel=1e-12)
        # at the posterior the gap is closed
        post = bound((tr.family, params), tr.X)
        assert abs(post.kl) <= 1e-12 and post.lower_bound == pytest.approx(post.log_likelihood, rel=1e-12)


@pytest.mark.filterwarnings("ignore::emix.ConvergenceWarning")
@given(seed=st.integers(0, 2**32 - 1), concentration=st.floats(0.05, 20.0))
def test_jensens_gap_for_any_q_on_the_lecture_example(seed, concentration):
    X, init = emix.datasets.load_lecture_example(return_init=True)
    gm = emix.GaussianMixture(2, reg_covar=0, **init, max_iter=2).fit(X)
    q = random_q(np.random.default_rng(seed), 6, 2, concentration)
    b = bound(gm, X, q)
    assert b.lower_bound <= b.log_likelihood + 1e-12
    assert b.lower_bound + b.kl == pytest.approx(b.log_likelihood, abs=1e-10)
    # KL from its definition, against scipy's densities
    from scipy.stats import multivariate_normal

    joint = np.column_stack(
        [gm.weights_[k] * multivariate_normal(gm.means_[k], gm.covariances_[k]).pdf(X) for k in range(2)]
    )
    post = joint / joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_post = np.log(post)
    pos = q > 0
    expected = float(np.sum(q[pos] * (np.log(q[pos]) - log_post[pos])))
    assert b.kl == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_q_on_an_impossible_component_gives_minus_infinity():
    model = ("bernoulli", {"weights": [0.5, 0.5], "probabilities": [[1.0], [0.0]]})
    b = bound(model, [[1.0], [0.0]], [[0.5, 0.5], [0.0, 1.0]])
    assert b.lower_bound == -np.inf and b.kl == np.inf
    assert b.log_likelihood == pytest.approx(2 * np.log(0.5))


def test_bound_of_a_fitted_and_a_hand_set_model_agree():
    X = emix.datasets.load_faithful()
    gm = emix.GaussianMixture(2, random_state=0).fit(X)
    q = random_q(np.random.default_rng(0), X.shape[0], 2)
    fitted = bound(gm, X, q)
    by_hand = emix.GaussianMixture(2)
    by_hand.weights_, by_hand.means_, by_hand.covariances_ = gm.weights_, gm.means_, gm.covariances_
    assert bound(by_hand, X, q).lower_bound == pytest.approx(fitted.lower_bound, rel=1e-12)
    as_dict = {"weights": gm.weights_, "means": gm.means_, "covariances": gm.covariances_}
    assert bound(("gaussian", as_dict), X, q).kl == pytest.approx(fitted.kl, rel=1e-10)
    assert fitted.log_likelihood == pytest.approx(gm.score(X) * X.shape[0], rel=1e-12)
    pois = emix.PoissonMixture(2)
    pois.weights_, pois.rates_ = np.array([0.5, 0.5]), np.array([[1.0], [5.0]])
    b = bound(pois, [[0.0], [3.0], [7.0]], [[1, 0], [0.5, 0.5], [0, 1]])
    assert b.lower_bound + b.kl == pytest.approx(b.log_likelihood, abs=1e-12)


@pytest.mark.parametrize(
    "q, message",
    [
        (np.full((6, 3), 1 / 3), r"q has shape \(6, 3\).*\(6, 2\)"),
        (np.full((5, 2), 0.5), r"q has shape \(5, 2\)"),
        ([[0.5, 0.5]] * 5 + [[np.nan, 1.0]], "q has nan at row 5, column 0"),
        ([[0.5, 0.5]] * 5 + [[-0.2, 1.2]], "negative value -0.2 at row 5, column 0"),
        ([[0.5, 0.5]] * 2 + [[0.5, 0.4]] + [[0.5, 0.5]] * 3, "row 2 of q sums to 0.9, not 1"),
    ],
)
def test_bad_q_is_refused_with_a_clear_error(q, message):
    X = emix.datasets.load_lecture_example()
    gm = emix.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(emix.InvalidInputError, match=message):
        bound(gm, X, q)


@pytest.mark.filterwarnings("ignore::emix.ConvergenceWarning")
def test_bad_models_and_data_are_refused():
    X = emix.datasets.load_lecture_example()
    gm = emix.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(emix.InputTypeError, match="q must be an array of numbers"):
        bound(gm, X, [["a", "b"]] * 6)
    with pytest.raises(emix.NotFittedError, match="fit it, or set weights_"):
        bound(emix.GaussianMixture(2), X)
    with pytest.raises(emix.InvalidInputError, match="X has 3 features, but the model was fitted on 2"):
        bound(gm, np.ones((4, 3)))
    with pytest.raises(emix.InvalidParameterError, match="weights sum to 0.9"):
        bound(("poisson", {"weights": [0.4, 0.5], "rates": [[1.0], [2.0]]}), [[1.0]])
    with pytest.raises(emix.InvalidInputError, match="non-negative integers"):
        bound(("poisson", {"weights": [0.5, 0.5], "rates": [[1.0], [2.0]]}), [[1.5]])
    with pytest.raises(emix.InputTypeError, match="an emix estimator or a"):
        bound("gaussian", X)
    student = emix.StudentMixture(1, random_state=0).fit(X)
    with pytest.raises(emix.InvalidInputError, match="missing value at row 0, column 1"):
        bound(student, [[1.0, np.nan]])


def test_bound_slice_touches_at_the_old_parameters_and_peaks_at_the_new():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, 40), rng.normal(2.5, 1, 60)])[:, None]
    tr = trace_em(
        X, 2, n_iter=3, weights_init=[0.5, 0.5], means_init=[[-1.0], [1.0]], precisions_init=[[[1.0]]] * 2
    )
    t = np.linspace(-0.5, 1.5, 41)
    for it in (1, 3):
        s = bound_slice(tr, it, t)
        ok = np.isfinite(s.lower_bound)
        assert ok[t == 0].all() and ok[t == 1].all()
        assert (s.lower_bound[ok] <= s.log_likelihood[ok] + 1e-9).all()
        zero, one = np.flatnonzero(t == 0)[0], np.flatnonzero(t == 1)[0]
        assert s.lower_bound[zero] == pytest.approx(s.log_likelihood[zero], abs=1e-9)
        assert s.lower_bound[one] == pytest.approx(tr.steps[2 * it - 1].lower_bound, rel=1e-12)
        assert int(np.nanargmax(s.lower_bound)) == one
    with pytest.raises(emix.InvalidParameterError, match="no iteration 4"):
        bound_slice(tr, 4)


def test_bound_slice_for_a_discrete_family():
    X, kw = CASES["bernoulli"]
    tr = trace_em(X, 2, n_iter=2, **kw)
    s = bound_slice(tr, 2, np.linspace(0, 1, 11))
    assert np.isfinite(s.lower_bound).all()
    assert int(np.argmax(s.lower_bound)) == 10 and (s.lower_bound <= s.log_likelihood + 1e-9).all()


@pytest.mark.parametrize("name", sorted(CASES))
def test_ancestral_sampling_draws_z_then_x_for_every_family(name):
    X, kw = CASES[name]
    tr = trace_em(X, 2, n_iter=2, **kw)
    model = (tr.family, tr.steps[-1].params)
    a = ancestral_sample(model, 500, random_state=0)
    b = ancestral_sample(model, 500, random_state=0)
    np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (500, X.shape[1]) and a.z.shape == (500,)
    assert a.counts.sum() == 500 and not (np.diff(a.z) >= 0).all()  # in the order drawn, not grouped
    tr.family.validate(a.X)  # in the family's support


def test_ancestral_sampling_puts_each_x_with_its_z():
    # component 0 always draws ones, component 1 always zeros: x_n says which z_n drew it
    model = ("bernoulli", {"weights": [0.3, 0.7], "probabilities": [[1.0] * 4, [0.0] * 4]})
    s = ancestral_sample(model, 20_000, random_state=1)
    np.testing.assert_array_equal(s.X[:, 0], (s.z == 0).astype(float))
    assert s.counts[0] / 20_000 == pytest.approx(0.3, abs=0.015)
    gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    g = ancestral_sample(gm, 4000, random_state=0)
    for k in range(2):
        np.testing.assert_allclose(g.X[g.z == k].mean(axis=0), gm.means_[k], rtol=0.03)
    with pytest.raises(emix.InvalidParameterError, match="n_samples"):
        ancestral_sample(gm, 0)


def test_em_path_for_another_family():
    from emix.teach import em_path

    X, _ = CASES["bernoulli"]
    bm = emix.BernoulliMixture(2, random_state=0).fit(X)
    path = em_path(bm, X)
    assert len(path) >= 2 and isinstance(path[0], MixtureParams)
    np.testing.assert_allclose(path[-1].components.probabilities, bm.probabilities_, rtol=1e-12)
