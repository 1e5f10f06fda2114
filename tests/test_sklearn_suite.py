"""scikit-learn's own tests of GaussianMixture, run on emix's.

The installed ``sklearn/mixture/tests/test_gaussian_mixture.py`` is imported
(not copied); its module-level name ``GaussianMixture`` is bound to
:class:`emix.GaussianMixture`, with emix's defaults (``convergence='aitken'``,
``accelerate=True``), for the duration of each test, and its test functions
are collected here. The fixtures it uses (``global_dtype`` with float64 *and*
float32, ``global_random_seed``) come from ``tests/conftest.py``.

Left out are only the tests of scikit-learn's private functions, each named in
:data:`PRIVATE` with the reason. A test that can pass only under
scikit-learn's stopping rule runs with ``convergence='sklearn'`` and is named
in :data:`SKLEARN_RULE` with the reason.
"""

import pytest

import emix

skt = pytest.importorskip("sklearn.mixture.tests.test_gaussian_mixture")

#: scikit-learn tests of its private functions, which emix does not have (nothing of emix runs)
PRIVATE = {
    "test_suffstat_sk_full": "sklearn.mixture._gaussian_mixture._estimate_gaussian_covariances_full",
    "test_suffstat_sk_tied": "sklearn.mixture._gaussian_mixture._estimate_gaussian_covariances_tied",
    "test_suffstat_sk_diag": "sklearn.mixture._gaussian_mixture._estimate_gaussian_covariances_diag",
    "test_gaussian_suffstat_sk_spherical": (
        "sklearn.mixture._gaussian_mixture._estimate_gaussian_covariances_spherical"
    ),
    "test_compute_log_det_cholesky": "sklearn.mixture._gaussian_mixture._compute_log_det_cholesky",
    "test_gaussian_mixture_log_probabilities": (
        "sklearn.mixture._gaussian_mixture._estimate_log_gaussian_prob (emix's densities are "
        "checked against scipy in tests/test_families_density.py)"
    ),
    "test_gaussian_mixture_precisions_init": (
        "calls the private methods GaussianMixture._set_parameters and _initialize(X, resp)"
    ),
    "test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters": (
        "counts calls of the private sklearn.mixture._gaussian_mixture._estimate_gaussian_parameters, "
        "which emix never calls (the same property of emix, no initialiser when all *_init are "
        "given, is tested in tests/test_sklearn_compat.py)"
    ),
    "test_gaussian_mixture_array_api_compliance": "scikit-learn's array API support (emix is NumPy only)",
    "test_gaussian_mixture_raises_where_array_api_not_implemented": "scikit-learn's array API support",
}

#: tests whose start depends on the order of scikit-learn's own k-means labels; each is replaced
#: by a test of the same property below, with the start in emix's component order
SKLEARN_KMEANS_ORDER = {
    "test_gaussian_mixture_precisions_init_diag": (
        "builds precisions_init from the clusters of scikit-learn's KMeans(random_state=0) and "
        "expects the fit from it to equal the fit from the default start. emix's k-means start "
        "(its own k-means++) finds the same two clusters in the other order, so the given "
        "precisions meet the other cluster's mean: the first pass gains 1379 nats and the fit "
        "makes one pass more (3 against 2) to the same optimum. Until round 13 the Aitken rule "
        "made four passes from either start, which hid this. Replaced by "
        "test_precisions_init_in_emix_order_gives_the_default_fit"
    ),
}

#: tests that pass only under scikit-learn's stopping rule; they run with convergence='sklearn'
SKLEARN_RULE = {
    "test_monotonic_likelihood": (
        "asks 600 warm fits of one plain EM iteration each (no acceleration within a fit of one "
        "iteration) to converge with tol=1e-7. For covariance_type='diag' the data sit on a slow "
        "ridge (rate ~0.995): the change per sample is ~1.6e-8, below tol, so scikit-learn's rule "
        "stops, but Aitken's estimate of the gain still to come is ~3e-6 per sample, above tol, "
        "so emix's default rule rightly goes on (about 900 more iterations). The monotonicity "
        "the test is about holds under either rule"
    ),
}

#: scikit-learn tests whose fits give an emix warning (the suite makes emix's warnings errors): the filters
#: each runs under, and why the warnings are expected there
EMIX_WARNINGS = {
    "test_gaussian_mixture_attributes": (
        ("ignore::emix.exceptions.DuplicateComponentWarning",),
        "fits 2 components with reg_covar=0.1 to 10 uniform points in the unit square (variance 1/12): "
        "the regularisation makes the two components alike, which emix warns",
    ),
    "test_gaussian_mixture_fit_predict_n_init": (
        ("ignore::emix.exceptions.ConvergenceWarning",),
        "fits uniform random data with n_init=5: under emix's Aitken rule the best start reaches "
        "max_iter (the test compares fit_predict with fit().predict, not convergence)",
    ),
    "test_fitted_precision_covariance_concistency": (
        ("ignore::emix.exceptions.ConvergenceWarning",),
        "fits RandomData (scale=7) with n_init=5: for 'diag' and 'spherical' the best start is on a "
        "slow ridge and reaches max_iter=100 under the Aitken rule (the rule before issue 15 stopped "
        "there about 2e-4 nats short, 30 times its tolerance, while the rate was still rising); the "
        "test checks that precisions and covariances agree, not convergence",
    ),
    "test_gaussian_mixture_setting_best_params": (
        ("ignore::emix.exceptions.DegenerateComponentWarning",),
        "fits 6 spherical components to a few rows: components end degenerate, which emix warns",
    ),
    "test_regularisation": (
        (
            "ignore::emix.exceptions.DegenerateComponentWarning",
            "ignore::emix.exceptions.DuplicateComponentWarning",
        ),
        "fits many components to rows without spread: components are emptied and repaired and end "
        "alike, which emix warns (scikit-learn raises or warns ConvergenceWarning)",
    ),
}

TESTS = sorted(name for name in dir(skt) if name.startswith("test_") and callable(getattr(skt, name)))


def _sklearn_rule_gaussian_mixture(*args, **kwargs):
    """emix.GaussianMixture with scikit-learn's stopping rule unless another is asked."""
    kwargs.setdefault("convergence", "sklearn")
    return emix.GaussianMixture(*args, **kwargs)


@pytest.fixture(autouse=True)
def _bind_emix(request, monkeypatch):
    """Bind the module's ``GaussianMixture`` to emix's while a test runs."""
    name = request.node.originalname
    est = _sklearn_rule_gaussian_mixture if name in SKLEARN_RULE else emix.GaussianMixture
    monkeypatch.setattr(skt, "GaussianMixture", est)


for _name in TESTS:
    if _name not in PRIVATE and _name not in SKLEARN_KMEANS_ORDER:
        _test = getattr(skt, _name)
        if _name in EMIX_WARNINGS:
            _test = pytest.mark.filterwarnings(*EMIX_WARNINGS[_name][0])(_test)
        globals()[_name] = _test


def test_the_lists_name_existing_tests():
    # a renamed or removed scikit-learn test must not silently leave a stale entry
    assert set(PRIVATE) <= set(TESTS)
    assert set(SKLEARN_KMEANS_ORDER) <= set(TESTS)
    assert set(SKLEARN_RULE) <= set(TESTS)
    assert set(EMIX_WARNINGS) <= set(TESTS) - set(PRIVATE)
    assert not set(PRIVATE) & set(SKLEARN_RULE)


def test_the_module_is_bound_to_emix():
    assert skt.GaussianMixture is emix.GaussianMixture


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_precisions_init_in_emix_order_gives_the_default_fit(dtype):
    """scikit-learn's test_gaussian_mixture_precisions_init_diag with the precisions of the
    k-means clusters given in the order of emix's own start: the same fit, the same passes."""
    import numpy as np

    rng = np.random.RandomState(0)
    shifted = rng.randn(300, 2) + np.array([20, 20])
    stretched = rng.randn(300, 2) @ np.array([[0.0, -0.7], [3.5, 0.7]])
    X = np.vstack([shifted, stretched]).astype(dtype)
    kw = dict(n_components=2, covariance_type="diag", reg_covar=1e-6, random_state=0)
    plain = emix.GaussianMixture(**kw).fit(X)
    labels = plain.predict(X)  # emix's clusters (the k-means start's order: one EM fit keeps it)
    var = np.array([X[labels == c].var(axis=0) for c in range(2)]) + 1e-6
    given = emix.GaussianMixture(precisions_init=(1.0 / var).astype(dtype), **kw).fit(X)
    assert given.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(given.precisions_cholesky_, plain.precisions_cholesky_, rtol=1e-5)
    assert given.precisions_cholesky_.dtype == np.dtype(dtype)
