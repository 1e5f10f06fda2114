"""sample_weight equals repetition; save/load roundtrips; bad data is named."""

import warnings

import numpy as np
import pytest

import emix
from emix.exceptions import ConvergenceWarning, InvalidInputError, InvalidParameterError, ModelFileError
from emix.families import ProductFamily, make_family

# fits of small random data drawn from the module's one generator (so they depend on the order the tests
# run in) may reach max_iter; the tests are about the families, files and predictions, not convergence
pytestmark = pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(7)
N = 80


def _mixed():
    X = np.column_stack([RNG.standard_normal(N), RNG.integers(0, 3, N), RNG.standard_normal(N) + 2])
    fam = ProductFamily(
        [(make_family("gaussian", covariance_type="full"), [0, 2]), (make_family("categorical"), [1])]
    )
    init = {
        "part0_means": [[0.0, 2.0], [1.0, 1.0]],
        "part0_covariances": [np.eye(2), 2 * np.eye(2)],
        "part1_probabilities": [[[0.5, 0.3, 0.2]], [[0.2, 0.3, 0.5]]],
    }
    return X, fam, init


def _cases():
    """(estimator, data, explicit initial parameters) for every family."""
    Xb = (RNG.random((N, 5)) < 0.4).astype(float)
    Xp = RNG.poisson(3.0, (N, 3)).astype(float)
    Xe = RNG.exponential(1.0, (N, 2))
    Xc = RNG.integers(0, 3, (N, 2)).astype(float)
    Xt = RNG.standard_t(5, (N, 2)) + np.repeat([[0.0, 0.0], [3.0, 1.0]], N // 2, axis=0)
    Xm, fam, minit = _mixed()
    return [
        (emix.BernoulliMixture(2, probabilities_init=RNG.uniform(0.2, 0.8, (2, 5))), Xb),
        (emix.PoissonMixture(2, rates_init=[[1.0, 2.0, 3.0], [4.0, 3.0, 2.0]]), Xp),
        (emix.Mixture(2, family="exponential", params_init={"rates": [[0.5, 2.0], [2.0, 0.5]]}), Xe),
        (
            emix.Mixture(
                2,
                family="categorical",
                params_init={"probabilities": [[[0.5, 0.3, 0.2]] * 2, [[0.2, 0.3, 0.5]] * 2]},
            ),
            Xc,
        ),
        (
            emix.StudentMixture(
                2, means_init=[[0.0, 0.0], [3.0, 1.0]], covariances_init=[np.eye(2), np.eye(2)]
            ),
            Xt,
        ),
        (
            emix.StudentMixture(
                2,
                covariance_type="diag",
                dof=4.0,
                means_init=[[0.0, 0.0], [3.0, 1.0]],
                covariances_init=[[1.0, 1.0], [1.0, 1.0]],
            ),
            Xt,
        ),
        (emix.Mixture(2, family=fam, params_init=minit), Xm),
    ]


CASES = _cases()
IDS = ["bernoulli", "poisson", "exponential", "categorical", "student", "student-diag-fixed", "product"]


@pytest.mark.parametrize(("model", "X"), CASES, ids=IDS)
def test_weighted_fit_equals_repeated_rows(model, X):
    w = RNG.integers(1, 4, X.shape[0])
    Xr = np.repeat(X, w, axis=0)
    params = dict(tol=0.0, max_iter=25, weights_init=[0.4, 0.6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = type(model)(**model.get_params())
        a.set_params(**params).fit(X, sample_weight=w.astype(float))
        b = type(model)(**model.get_params()).set_params(**params).fit(Xr)
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=1e-9, atol=1e-12)
    for name in a._base_family().array_names():
        np.testing.assert_allclose(getattr(a, name + "_"), getattr(b, name + "_"), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.history_, b.history_, rtol=1e-9)


@pytest.mark.parametrize(("model", "X"), CASES, ids=IDS)
def test_save_load_roundtrip(model, X, tmp_path):
    m = type(model)(**model.get_params()).set_params(max_iter=5, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(X)
    path = tmp_path / "model.emix"
    m.save(path)
    back = emix.load(path)
    assert type(back) is type(m)
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))
    np.testing.assert_array_equal(back.score_samples(X), m.score_samples(X))
    np.testing.assert_array_equal(back.history_, m.history_)
    assert back.bic(X) == m.bic(X) and back.aic(X) == m.aic(X)
    assert back.sample(7)[0].shape == (7, X.shape[1])


def test_default_init_paths_run_for_every_family():
    for model, X in CASES:
        m = type(model)(
            **{k: v for k, v in model.get_params().items() if not k.endswith("_init") and k != "params_init"}
        )
        m.set_params(n_components=2, random_state=0, n_init=2).fit(X)
        proba = m.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert m.predict(X).shape == (X.shape[0],)
        assert np.isfinite(m.score(X))


def test_inconsistent_model_file_is_rejected(tmp_path):
    X = (RNG.random((30, 3)) < 0.5).astype(float)
    m = emix.BernoulliMixture(2, random_state=0).fit(X)
    m.probabilities_ = m.probabilities_ + 1.0
    m.save(tmp_path / "bad.emix")
    with pytest.raises(ModelFileError, match=r"inconsistent model: probabilities must lie in \[0, 1\]"):
        emix.load(tmp_path / "bad.emix")


@pytest.mark.parametrize(
    ("model", "X", "message"),
    [
        (
            emix.BernoulliMixture(2),
            [[0, 1], [1, 2], [0, 0]],
            r"value 2\.0 at row 1, column 1; the bernoulli family needs values 0 or 1",
        ),
        (
            emix.PoissonMixture(2),
            [[0, 1], [1, 2], [3, -1]],
            r"value -1\.0 at row 2, column 1; the poisson family needs non-negative integers",
        ),
        (
            emix.PoissonMixture(2),
            [[0, 1], [1.5, 2], [3, 1]],
            r"value 1\.5 at row 1, column 0; the poisson family needs non-negative integers",
        ),
        (
            emix.Mixture(2, family="exponential"),
            [[0.5, 1], [1, 2], [-3, 1]],
            r"value -3\.0 at row 2, column 0; the exponential family needs non-negative values",
        ),
        (
            emix.Mixture(2, family="categorical"),
            [[0, 1], [1, 2], [2, 0.5]],
            r"value 0\.5 at row 2, column 1; the categorical family needs non-negative integers",
        ),
        (
            emix.Mixture(
                2, family=ProductFamily([(make_family("gaussian"), [0]), (make_family("poisson"), [1])])
            ),
            [[0.3, 1], [1.2, 2], [2, -4]],
            r"row 2, column 1; the poisson family needs non-negative integers",
        ),
    ],
)
def test_bad_data_names_row_and_column(model, X, message):
    with pytest.raises(InvalidInputError, match=message):
        model.fit(np.asarray(X, dtype=float))


def test_predict_checks_data_too():
    m = emix.BernoulliMixture(2, random_state=0).fit((RNG.random((20, 3)) < 0.5).astype(float))
    with pytest.raises(InvalidInputError, match=r"row 0, column 2; the bernoulli family"):
        m.predict([[0.0, 1.0, 0.3]])
    c = emix.Mixture(2, family="categorical", random_state=0).fit(RNG.integers(0, 3, (30, 2)))
    with pytest.raises(
        InvalidInputError, match=r"level 5\.0 at row 1, column 0; the categorical model knows levels 0..2"
    ):
        c.predict([[0, 0], [5, 1]])


def test_bad_family_arguments():
    X = RNG.standard_normal((10, 2))
    with pytest.raises(InvalidParameterError, match="unknown family 'gamma'"):
        emix.Mixture(2, family="gamma").fit(X)
    with pytest.raises(InvalidParameterError, match="alpha must be a finite number >= 0"):
        emix.BernoulliMixture(2, alpha=-1).fit((X > 0).astype(float))
    with pytest.raises(InvalidParameterError, match="covariance_type must be one of"):
        emix.StudentMixture(2, covariance_type="VVV").fit(X)
    with pytest.raises(InvalidParameterError, match="dof must be a positive number"):
        emix.StudentMixture(2, dof=0.0).fit(X)
    with pytest.raises(InvalidParameterError, match=r"column\(s\) \[1\] already belong to another part"):
        ProductFamily([(make_family("gaussian"), [0, 1]), (make_family("poisson"), [1])])
    with pytest.raises(InvalidParameterError, match=r"probabilities has shape \(2, 3\); expected \(2, 2\)"):
        emix.BernoulliMixture(2, probabilities_init=np.full((2, 3), 0.5)).fit((X > 0).astype(float))


def test_mixture_accepts_spec_text_and_object():
    X = RNG.poisson(2.0, (40, 2)).astype(float)
    a = emix.Mixture(2, family='{"family": "poisson", "alpha": 0.5}', random_state=0).fit(X)
    b = emix.Mixture(2, family=make_family("poisson", alpha=0.5), random_state=0).fit(X)
    c = emix.PoissonMixture(2, alpha=0.5, random_state=0).fit(X)
    np.testing.assert_allclose(a.rates_, b.rates_)
    np.testing.assert_allclose(a.rates_, c.rates_)
