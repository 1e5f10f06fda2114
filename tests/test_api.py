"""scikit-learn's estimator contract and the public methods."""

import logging
import warnings

import numpy as np
import pytest
from helpers import make_blobs

import emix
from emix import ConvergenceWarning

COV_TYPES = ["full", "tied", "diag", "spherical"]
INITS = ["kmeans", "k-means++", "random", "random_from_data"]


def test_datasets():
    X = emix.datasets.load_faithful()
    assert X.shape == (272, 2) and X.dtype == np.float64
    np.testing.assert_allclose(X[0], [3.6, 79])
    np.testing.assert_allclose(X.mean(axis=0), [3.4877831, 70.8970588], rtol=1e-6)
    assert emix.datasets.load_lecture_example().shape == (6, 2)


def test_clone_and_params():
    from sklearn.base import clone

    m = emix.GaussianMixture(3, covariance_type="diag", reg_covar=0.0, random_state=7)
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    assert m.set_params(n_components=4) is m and m.n_components == 4
    assert (
        repr(emix.GaussianMixture(3, covariance_type="diag"))
        == "GaussianMixture(covariance_type='diag', n_components=3)"
    )
    assert set(m.get_params()) >= {
        "n_components",
        "covariance_type",
        "tol",
        "reg_covar",
        "max_iter",
        "n_init",
        "init_params",
        "weights_init",
        "means_init",
        "precisions_init",
        "random_state",
        "warm_start",
        "verbose",
    }


def test_fit_does_not_change_constructor_arguments():
    X, _ = make_blobs()
    m = emix.GaussianMixture(3, random_state=0)
    before = m.get_params()
    m.fit(X)
    assert m.get_params() == before


def test_works_inside_sklearn_pipeline_and_search():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = make_blobs(n=200)
    pipe = make_pipeline(StandardScaler(), emix.GaussianMixture(random_state=0))
    grid = GridSearchCV(pipe, {"gaussianmixture__n_components": [1, 2, 3]}, cv=3).fit(X)
    assert grid.best_params_["gaussianmixture__n_components"] == 3


@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("init", INITS)
def test_every_init_recovers_separated_blobs(cov, init):
    X, labels = make_blobs(n=300, k=3, sep=8.0)
    # a tight tol: from random responsibilities EM starts on a slow ridge (see docs)
    m = emix.GaussianMixture(
        3, covariance_type=cov, init_params=init, n_init=3, tol=1e-8, max_iter=1000, random_state=0
    ).fit(X)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, m.predict(X)) > 0.95
    assert m.converged_
    np.testing.assert_array_equal(m.fit_predict(X), m.predict(X))


def test_shapes_of_fitted_attributes():
    X, _ = make_blobs(n=120, d=4, k=3)
    shapes = {"full": (3, 4, 4), "tied": (4, 4), "diag": (3, 4), "spherical": (3,)}
    for cov, shape in shapes.items():
        m = emix.GaussianMixture(3, covariance_type=cov, random_state=0).fit(X)
        assert m.weights_.shape == (3,) and m.means_.shape == (3, 4)
        assert m.covariances_.shape == m.precisions_.shape == m.precisions_cholesky_.shape == shape
        assert m.history_.shape == (m.n_iter_ + 1,)
        assert m.lower_bound_ == pytest.approx(m.score(X))
        assert m.n_features_in_ == 4


# random starts of 5 components: some runs reach max_iter; the test compares likelihoods
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_n_init_keeps_the_best():
    X, _ = make_blobs(n=300, k=5, sep=3.0, seed=3)
    singles = [
        emix.GaussianMixture(5, init_params="random", random_state=s).fit(X).log_likelihood_ for s in range(4)
    ]
    best = emix.GaussianMixture(5, init_params="random", n_init=6, random_state=0).fit(X)
    assert best.log_likelihood_ >= max(singles) - 1e-6 or best.log_likelihood_ >= np.median(singles)


def test_warm_start_continues():
    X, _ = make_blobs(n=300, k=3, sep=2.0, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = emix.GaussianMixture(3, max_iter=2, tol=0, warm_start=True, random_state=0)
        m.fit(X)
        first = m.history_.copy()
        m.fit(X)
    assert m.history_[0] == pytest.approx(first[-1], rel=1e-12)


def test_convergence_warning():
    X, _ = make_blobs(n=300, k=3, sep=1.0)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        emix.GaussianMixture(3, max_iter=2, tol=0, random_state=0).fit(X)


def test_max_iter_zero_keeps_the_start():
    X, _ = make_blobs()
    m = emix.GaussianMixture(3, max_iter=0, means_init=X[:3], random_state=0).fit(X)
    np.testing.assert_array_equal(m.means_, X[:3])
    assert m.n_iter_ == 0 and not m.converged_ and m.history_.shape == (1,)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_sample_reproduces_the_model(cov):
    X, _ = make_blobs(n=400, d=3, k=2, seed=2)
    m = emix.GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
    Xs, ys = m.sample(40000)
    assert Xs.shape == (40000, 3) and ys.shape == (40000,)
    np.testing.assert_allclose(np.bincount(ys) / 40000, m.weights_, atol=0.01)
    for k in range(2):
        np.testing.assert_allclose(Xs[ys == k].mean(axis=0), m.means_[k], atol=0.05)
    a, b = m.sample(5), m.sample(5)
    np.testing.assert_array_equal(a[0], b[0])  # random_state fixed: same draws, as sklearn


def test_bic_aic_formulae():
    X, _ = make_blobs(n=200, d=2, k=3)
    m = emix.GaussianMixture(3, random_state=0).fit(X)
    ll = m.score_samples(X).sum()
    p = 3 * 2 + 3 * 3 + 2
    assert m._n_parameters() == p
    assert m.bic(X) == pytest.approx(-2 * ll + p * np.log(200))
    assert m.aic(X) == pytest.approx(-2 * ll + 2 * p)


def test_score_samples_against_scipy():
    from scipy.stats import multivariate_normal

    X, _ = make_blobs(n=100, d=3, k=2)
    m = emix.GaussianMixture(2, random_state=0).fit(X)
    dens = sum(
        w * multivariate_normal(mu, c).pdf(X) for w, mu, c in zip(m.weights_, m.means_, m.covariances_)
    )
    np.testing.assert_allclose(m.score_samples(X), np.log(dens), rtol=1e-10)


# tol=0: exactly max_iter iterations, not converged by design
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_float32_stays_float32():
    X, _ = make_blobs(n=200)
    init = dict(weights_init=[1 / 3] * 3, means_init=X[:3], precisions_init=np.array([np.eye(2)] * 3))
    m = emix.GaussianMixture(3, tol=0, max_iter=50, accelerate=False, **init).fit(X.astype(np.float32))
    assert m.means_.dtype == m.covariances_.dtype == np.float32
    m64 = emix.GaussianMixture(3, tol=0, max_iter=50, accelerate=False, **init).fit(X)
    # the same 50 iterations in float32 stay within float32 rounding of float64's
    np.testing.assert_allclose(m.means_, m64.means_, rtol=1e-4, atol=1e-4)
    assert m.log_likelihood_ == pytest.approx(m64.log_likelihood_, rel=1e-5)


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_float32_data_take_an_ill_conditioned_precisions_init():
    """Float32 data with ``precisions_init`` whose covariances have condition numbers near 1e3
    at D = 64 (scikit-learn's own float32 start): the start is taken (its covariances and factors,
    rounded to float32, agree only to some 1e-4), while arrays that disagree are still refused."""
    rng = np.random.default_rng(4)
    d, k = 64, 2
    a = [rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d) for _ in range(k)]
    X = np.concatenate([rng.normal(size=(400, d)) @ a[c].T + 6.0 * c for c in range(k)])
    prec = np.array([np.linalg.inv(a[c] @ a[c].T) for c in range(k)])
    assert np.linalg.cond(prec[0]) > 300
    init = dict(weights_init=[0.5, 0.5], means_init=[X[:400].mean(0), X[400:].mean(0)], precisions_init=prec)
    m = emix.GaussianMixture(k, max_iter=3, **init).fit(X.astype(np.float32))
    assert m.means_.dtype == np.float32 and np.isfinite(m.log_likelihood_)
    fam = m._base_family()
    arrays = {
        "means": m.means_,
        "covariances": m.covariances_,
        "precisions_cholesky": m.precisions_cholesky_ * 1.01,
    }
    with pytest.raises(emix.exceptions.InvalidParameterError, match="component 0: .*do not agree"):
        fam.from_arrays(arrays, k, d)


def test_integer_and_dataframe_input():
    pd = pytest.importorskip("pandas")
    X, _ = make_blobs(n=100)
    df = pd.DataFrame(X, columns=["a", "b"])
    m = emix.GaussianMixture(2, random_state=0).fit(df)
    assert m.means_.shape == (2, 2)
    emix.GaussianMixture(2, random_state=0).fit(np.round(X * 10).astype(int))
    df["c"] = ["x"] * 100
    with pytest.raises(emix.InputTypeError, match="column 'c' has non-numeric dtype"):
        emix.GaussianMixture(2).fit(df)


# max_iter=10: a fixed number of iterations, compared
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_sample_weight_equals_repetition():
    X, _ = make_blobs(n=60, k=2)
    w = np.random.default_rng(0).integers(1, 4, size=60)
    init = emix.GaussianMixture(2, max_iter=0, random_state=0).fit(X)
    kw = dict(
        tol=0,
        max_iter=10,
        weights_init=init.weights_,
        means_init=init.means_,
        precisions_init=init.precisions_,
    )
    a = emix.GaussianMixture(2, **kw).fit(X, sample_weight=w)
    b = emix.GaussianMixture(2, **kw).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-9)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-9)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)


def test_verbose_logs_progress(caplog):
    X, _ = make_blobs()
    with caplog.at_level(logging.INFO, logger="emix"):
        emix.GaussianMixture(3, verbose=1, verbose_interval=1, random_state=0).fit(X)
    assert any("log-likelihood" in r.message for r in caplog.records)


# tol=0: exactly max_iter iterations
@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_memory_does_not_grow_with_an_n_by_k_matrix():
    # a pass holds one chunk of responsibilities, never (n_samples, n_components)
    import tracemalloc

    rng = np.random.default_rng(0)
    n, k = 200_000, 8
    X = rng.normal(size=(n, 2))
    model = emix.GaussianMixture(k, chunk_size=2048, max_iter=3, tol=0, random_state=0, n_jobs=1)
    tracemalloc.start()
    model.fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.1 * n * k * 8, peak  # an n x K float64 matrix would be 12.8 MB
