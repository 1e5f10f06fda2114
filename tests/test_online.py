"""partial_fit: online (stepwise) EM for every estimator."""

import warnings

import numpy as np
import pandas as pd
import pytest

import emix
from emix.sources import ArraySource, ParquetSource


def separated(n=20_000, seed=0, offset=1e5):
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])
    z = rng.choice(4, n, p=[0.1, 0.2, 0.3, 0.4])
    X = means[z] + rng.normal(size=(n, 2)) @ np.array([[1.0, 0.3], [0.0, 0.7]])
    return X + offset


def epochs(model, X, n_epochs=3, fraction=0.01, seed=0, weights=None):
    rng = np.random.default_rng(seed)
    size = int(len(X) * fraction)
    for _ in range(n_epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), size):
            rows = order[start : start + size]
            model.partial_fit(X[rows], sample_weight=None if weights is None else weights[rows])
    return model


def test_three_epochs_of_one_percent_batches_reach_the_batch_optimum():
    X = separated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = emix.GaussianMixture(4, random_state=0, tol=0, max_iter=300).fit(X).score(X)
    model = epochs(emix.GaussianMixture(4, random_state=0), X)
    assert model.n_iter_ == 300 and model.history_.shape == (300,)
    assert best - model.score(X) < 0.01  # nats per sample
    assert best - model.score(X) >= -1e-9  # the batch fit is the optimum


@pytest.mark.parametrize("alpha", [0.6, 1.0])
def test_the_step_exponent_range_converges(alpha):
    X = separated(5_000)
    best = emix.GaussianMixture(4, random_state=0).fit(X).score(X)
    model = epochs(emix.GaussianMixture(4, random_state=0, online_step=alpha), X, fraction=0.02)
    assert best - model.score(X) < 0.01


@pytest.mark.parametrize("bad", [0.5, 0.2, 1.01, "0.7", True])
def test_online_step_outside_the_range_is_refused(bad):
    with pytest.raises(emix.InvalidParameterError, match=r"online_step must be a number in \(0.5, 1\]"):
        emix.GaussianMixture(2, online_step=bad).partial_fit(separated(100))


def test_first_call_fixes_components_family_and_features():
    X = separated(2_000)
    model = emix.GaussianMixture(4, random_state=0).partial_fit(X[:500])
    with pytest.raises(
        emix.InvalidInputError, match="X has 3 features, but GaussianMixture is expecting 2 features"
    ):
        model.partial_fit(np.hstack([X[:10], X[:10, :1]]))
    model.set_params(n_components=3)
    with pytest.raises(emix.InvalidParameterError, match=r"n_components is 3, but this online fit has 4"):
        model.partial_fit(X[500:600])
    model.set_params(n_components=4, covariance_type="diag")
    with pytest.raises(emix.InvalidParameterError, match=r"covariance_type='full' -> 'diag'"):
        model.partial_fit(X[500:600])
    model.set_params(covariance_type="full")
    model.partial_fit(X[500:600])  # back as it was: accepted
    assert model.n_iter_ == 2


def test_first_batch_needs_n_components_rows():
    with pytest.raises(emix.InvalidInputError, match="n_samples >= n_components"):
        emix.GaussianMixture(4).partial_fit(separated(3))


def test_sample_weight_is_per_unit_of_weight():
    X = separated(4_000)
    rng = np.random.default_rng(1)
    w = rng.integers(1, 4, len(X)).astype(float)
    first, second = slice(0, 1000), slice(1000, 1300)
    a = emix.GaussianMixture(4, random_state=0, init_params="random_from_data")
    a.partial_fit(X[first], sample_weight=w[first]).partial_fit(X[second], sample_weight=w[second])
    # integer weights are repeated rows; scaling a batch's weights changes nothing
    b = emix.GaussianMixture(4, random_state=0, init_params="random_from_data")
    b.partial_fit(X[first], sample_weight=w[first])
    b.partial_fit(np.repeat(X[second], w[second].astype(int), axis=0))
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-12)
    c = emix.GaussianMixture(4, random_state=0, init_params="random_from_data")
    c.partial_fit(X[first], sample_weight=w[first]).partial_fit(X[second], sample_weight=10 * w[second])
    np.testing.assert_allclose(a.means_, c.means_, rtol=1e-12)
    np.testing.assert_allclose(a.covariances_, c.covariances_, rtol=1e-10)
    with pytest.raises(emix.InvalidInputError):
        a.partial_fit(X[:5], sample_weight=np.zeros(5))


def test_a_source_is_one_epoch_of_its_chunks(tmp_path):
    X = separated(3_000)
    path = tmp_path / "x.parquet"
    pd.DataFrame(X, columns=["a", "b"]).to_parquet(path, row_group_size=500)
    by_chunk = emix.GaussianMixture(4, random_state=0)
    for start in range(0, 3_000, 500):
        by_chunk.partial_fit(X[start : start + 500])
    src = emix.GaussianMixture(4, random_state=0).partial_fit(ParquetSource(path, batch_rows=500))
    assert src.n_iter_ == 6
    np.testing.assert_allclose(src.means_, by_chunk.means_, rtol=1e-12)
    mem = emix.GaussianMixture(4, random_state=0).partial_fit(ArraySource(X, None, 500))
    np.testing.assert_allclose(mem.means_, by_chunk.means_, rtol=1e-12)


def test_partial_fit_after_fit_starts_from_the_fitted_model_and_fit_ends_the_run(tmp_path):
    X = separated(4_000)
    model = emix.GaussianMixture(4, random_state=0).fit(X)
    fitted = model.means_.copy()
    model.partial_fit(X[:400])
    assert model.init_used_ == "fitted" and model.n_iter_ == 1
    np.testing.assert_allclose(model.means_, fitted, atol=0.3)
    model.partial_fit(X[400:800])
    assert model.n_iter_ == 2
    model.save(tmp_path / "m.emix")
    loaded = emix.load(tmp_path / "m.emix")
    np.testing.assert_array_equal(loaded.history_, model.history_)
    model.fit(X)  # a new fit ends the online run
    model.partial_fit(X[:400])
    assert model.n_iter_ == 1 and model.init_used_ == "fitted"


@pytest.mark.parametrize(
    "make",
    [
        lambda: (emix.PoissonMixture(2, random_state=0), "poisson"),
        lambda: (emix.BernoulliMixture(2, random_state=0), "bernoulli"),
        lambda: (emix.StudentMixture(2, random_state=0), "gaussian"),
        lambda: (emix.Mixture(2, family="categorical", random_state=0), "categorical"),
        lambda: (emix.GaussianMixture(2, covariance_type="VEV", random_state=0), "gaussian"),
        lambda: (emix.GaussianMixture(2, covariance_type="tied", random_state=0), "missing"),
        lambda: (emix.BayesianGaussianMixture(2, random_state=0), "gaussian"),
        lambda: (
            emix.BayesianGaussianMixture(
                2, covariance_type="diag", weight_concentration_prior_type="dirichlet_distribution"
            ),
            "gaussian",
        ),
    ],
    ids=["poisson", "bernoulli", "student", "categorical", "VEV", "tied-missing", "bayes", "bayes-diag"],
)
def test_every_estimator_learns_online(make):
    model, kind = make()
    rng = np.random.default_rng(0)
    z = rng.random(6_000) < 0.4
    if kind == "poisson":
        X = rng.poisson(np.where(z[:, None], 2.0, 9.0), (6_000, 3)).astype(float)
    elif kind in ("bernoulli", "categorical"):
        X = (rng.random((6_000, 4)) < np.where(z[:, None], 0.15, 0.85)).astype(float)
    else:
        X = rng.normal(np.where(z[:, None], -3.0, 3.0), 1.0, (6_000, 3))
        if kind == "missing":
            X[::7, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = type(model)(**model.get_params()).fit(X).score(X)
    epochs(model, X, n_epochs=2, fraction=0.05)
    assert best - model.score(X) < 0.02
