"""docs/sklearn-users.md says what differs from scikit-learn: its examples run, its claims hold.

The ``pycon`` blocks of the page are run with :mod:`doctest`, in order and with
shared names (as a reader typing them in would), in a temporary folder, with
warnings as errors. The tests below check the claims the page makes in words,
fitting both libraries from the same start with scikit-learn's settings.
"""

from __future__ import annotations

import doctest
import inspect
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning  # noqa: E402
from sklearn.exceptions import NotFittedError as SkNotFittedError  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

import emix  # noqa: E402

PAGE = Path(__file__).resolve().parents[1] / "docs" / "sklearn-users.md"
COV_TYPES = ["full", "tied", "diag", "spherical"]


def _page_examples() -> list[doctest.Example]:
    """The examples of every ``pycon`` block of the page, in order, numbered by page line."""
    text = PAGE.read_text()
    parser = doctest.DocTestParser()
    examples = []
    for block in re.finditer(r"^```pycon\n(.*?)^```", text, flags=re.M | re.S):
        first_line = text.count("\n", 0, block.start(1))
        for example in parser.get_examples(block.group(1)):
            example.lineno += first_line
            examples.append(example)
    return examples


def test_the_examples_of_the_page_run(tmp_path, monkeypatch):
    examples = _page_examples()
    assert len(examples) > 50
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTest(examples, {}, PAGE.name, str(PAGE), 0, None)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    with warnings.catch_warnings(), np.printoptions(legacy=False):
        warnings.simplefilter("error")
        result = runner.run(test, out=report.append)
    if result.failed:
        pytest.fail("".join(report), pytrace=False)


# -- the claims in words ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def faithful():
    return emix.datasets.load_faithful()


def _sklearn_start(X, cov, k=3, seed=0):
    """scikit-learn's own start (a fit with max_iter=0 keeps it) as the three ``*_init``."""
    start = SkGM(k, covariance_type=cov, max_iter=0, random_state=seed).fit(X)  # no warning at max_iter=0
    return dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("cov", COV_TYPES)
def test_scikit_learns_settings_give_scikit_learns_iterations(faithful, cov):
    X = faithful
    init = _sklearn_start(X, cov)
    sk = SkGM(3, covariance_type=cov, max_iter=500, **init).fit(X)
    em = emix.GaussianMixture(
        3, covariance_type=cov, max_iter=500, convergence="sklearn", accelerate=False, **init
    ).fit(X)
    assert em.n_iter_ == sk.n_iter_ and em.converged_ == sk.converged_
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert _rel(getattr(em, name), getattr(sk, name)) < 1e-12, name
    np.testing.assert_allclose(em.lower_bounds_, sk.lower_bounds_, rtol=1e-12, atol=0)
    assert em.lower_bounds_[-1] == pytest.approx(sk.lower_bound_, rel=1e-12)
    # the page: emix's lower_bound_ is the final parameters' (score), scikit-learn's the one before
    assert em.lower_bound_ == pytest.approx(em.score(X), rel=1e-12)
    assert em.lower_bound_ == pytest.approx(sk.score(X), rel=1e-12)
    assert sk.lower_bound_ == sk.lower_bounds_[-1] and sk.lower_bound_ < sk.score(X)


def test_the_default_rule_reaches_mclusts_optimum_where_scikit_learn_stops(faithful):
    X = faithful
    init = _sklearn_start(X, "tied")
    sk = SkGM(3, covariance_type="tied", **init).fit(X)
    em = emix.GaussianMixture(3, covariance_type="tied", **init).fit(X)
    assert sk.converged_ and em.converged_
    assert em.log_likelihood_ == pytest.approx(-1126.315928, abs=1e-5)  # mclust's EEE, K=3
    assert sk.score(X) * len(X) < em.log_likelihood_ - 10
    # with the same random_state the two libraries start elsewhere: scikit-learn's k-means is not emix's
    own = emix.GaussianMixture(3, covariance_type="tied", max_iter=0, random_state=0).fit(X)
    assert not np.allclose(np.sort(own.means_, axis=0), np.sort(init["means_init"], axis=0), rtol=1e-6)


def test_tol_zero_runs_exactly_max_iter_in_both(faithful):
    X = faithful
    init = _sklearn_start(X, "full")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        sk = SkGM(3, tol=0, max_iter=12, **init).fit(X)
        for rule in ("aitken", "sklearn"):
            em = emix.GaussianMixture(3, tol=0, max_iter=12, convergence=rule, accelerate=False, **init).fit(
                X
            )
            assert em.n_iter_ == sk.n_iter_ == 12 and not em.converged_


def test_every_argument_of_scikit_learns_has_the_same_name_and_default():
    sk = inspect.signature(SkGM).parameters
    em = inspect.signature(emix.GaussianMixture).parameters
    for name, p in sk.items():
        assert name in em and em[name].default == p.default, name
    assert [n for n in em if n not in sk] == [
        "equal_weights",
        "chunk_size",
        "convergence",
        "rtol",
        "accelerate",
        "n_jobs",
        "online_step",
        "checkpoint",
        "noise",
        "noise_init",
        "prior",
        "strict",
    ]


def test_every_method_and_fitted_attribute_of_scikit_learns_is_there(faithful):
    X = faithful
    missing = [m for m in dir(SkGM) if not m.startswith("_") and not hasattr(emix.GaussianMixture, m)]
    assert missing == ["get_metadata_routing"]  # the page: no metadata routing
    assert not hasattr(emix.GaussianMixture, "set_fit_request")
    sk = SkGM(2, random_state=0).fit(X)
    em = emix.GaussianMixture(2, random_state=0).fit(X)
    fitted = [a for a in vars(sk) if a.endswith("_") and not a.startswith("_")]
    assert fitted and all(hasattr(em, a) for a in fitted)
    for extra in ("log_likelihood_", "history_", "accelerated_", "init_used_", "diagnostics_"):
        assert hasattr(em, extra) and not hasattr(sk, extra)


def test_n_iter_counts_passes_and_equals_scikit_learns_without_acceleration(faithful):
    X = faithful
    em = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    assert em.accelerated_.any() and len(em.history_) <= em.n_iter_ + 1
    plain = emix.GaussianMixture(
        3, covariance_type="tied", random_state=0, accelerate=False, max_iter=1000
    ).fit(X)
    assert len(plain.history_) == plain.n_iter_ + 1 and not plain.accelerated_.any()


def test_n_init_keeps_the_highest_final_log_likelihood(faithful, monkeypatch):
    from emix.estimators import core

    results = []

    def recording(*args, **kwargs):
        result = run_em(*args, **kwargs)
        results.append(result.log_likelihood)
        return result

    run_em = core.run_em
    monkeypatch.setattr(core, "run_em", recording)
    kept = emix.GaussianMixture(4, init_params="random", n_init=4, max_iter=1000, random_state=0).fit(
        faithful
    )
    assert len(results) == 4 and len(set(results)) > 1
    assert kept.log_likelihood_ == max(results)


def test_a_singular_covariance_warns_and_the_warning_can_be_an_error():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=100), np.ones(100)])
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        SkGM(1, reg_covar=0).fit(X)
    with pytest.warns(emix.DegenerateComponentWarning) as seen:  # the repair, then the degenerate end
        emix.GaussianMixture(1, reg_covar=0).fit(X)
    assert any("component 0" in str(w.message) for w in seen)
    with warnings.catch_warnings():
        warnings.simplefilter("error", emix.DegenerateComponentWarning)
        with pytest.raises(emix.DegenerateComponentWarning):
            emix.GaussianMixture(1, reg_covar=0).fit(X)
    assert SkGM().reg_covar == emix.GaussianMixture().reg_covar == 1e-6


def test_no_more_distinct_rows_than_components_is_refused_before_fitting_as_scikit_learn_fails():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
    sentence = (
        "Fitting the mixture model failed because some components have ill-defined empirical covariance"
    )
    with pytest.raises(ValueError, match=sentence):
        SkGM(2, reg_covar=0).fit(X)
    with pytest.raises(emix.InvalidInputError, match=sentence):
        emix.GaussianMixture(2, reg_covar=0).fit(X)


def test_nan_is_refused_by_scikit_learn_and_missing_for_emix(faithful):
    X = faithful.copy()
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SkGM(2).fit(X)
    gm = emix.GaussianMixture(2, random_state=0).fit(X)
    assert np.isfinite(gm.means_).all() and not np.isnan(gm.impute(X)).any()
    assert gm.__sklearn_tags__().input_tags.allow_nan
    assert not SkGM().__sklearn_tags__().input_tags.allow_nan


def test_y_is_ignored_and_sample_weight_is_only_emixs(faithful):
    X = faithful
    assert "sample_weight" not in inspect.signature(SkGM.fit).parameters
    with pytest.raises(TypeError):
        SkGM(2).fit(X, sample_weight=np.ones(len(X)))
    a = emix.GaussianMixture(2, random_state=0).fit(X, np.arange(len(X)))
    b = emix.GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_sample_weight_goes_through_a_pipeline_by_its_step_name(faithful):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = faithful
    w = np.ones(len(X))
    w[:50] = 3
    pipe = make_pipeline(StandardScaler(), emix.GaussianMixture(2, random_state=0))
    pipe.fit(X, gaussianmixture__sample_weight=w)
    direct = emix.GaussianMixture(2, random_state=0).fit(StandardScaler().fit_transform(X), sample_weight=w)
    np.testing.assert_allclose(pipe[-1].means_, direct.means_, rtol=1e-12)


def test_column_names_dtypes_and_sparse_data_as_in_scikit_learn(faithful):
    pd = pytest.importorskip("pandas")
    import scipy.sparse

    frame = pd.DataFrame(faithful, columns=["eruptions", "waiting"])
    for cls in (SkGM, emix.GaussianMixture):
        gm = cls(2, random_state=0).fit(frame)
        np.testing.assert_array_equal(gm.feature_names_in_, ["eruptions", "waiting"])
        with pytest.raises(ValueError, match="Feature names must be in the same order as they were in fit"):
            gm.predict(frame[["waiting", "eruptions"]])
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            gm.predict(faithful)
        f32 = cls(2, random_state=0).fit(faithful.astype(np.float32))
        assert f32.means_.dtype == f32.weights_.dtype == np.float32
        with pytest.raises(TypeError):
            cls(2).fit(scipy.sparse.csr_matrix(faithful))


def test_pickles_and_model_files_both_keep_the_model(faithful, tmp_path):
    gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(faithful)
    for copy in (pickle.loads(pickle.dumps(gm)), _saved_and_loaded(gm, tmp_path / "m.emix")):
        assert copy.get_params() == gm.get_params()
        np.testing.assert_array_equal(copy.predict_proba(faithful), gm.predict_proba(faithful))


def _saved_and_loaded(gm, path):
    gm.save(path)
    return emix.load(path)


def test_errors_and_warnings_derive_from_what_scikit_learn_raises(faithful):
    assert issubclass(emix.NotFittedError, SkNotFittedError)
    assert issubclass(emix.ConvergenceWarning, SkConvergenceWarning)
    assert issubclass(emix.InvalidInputError, ValueError) and issubclass(
        emix.InvalidParameterError, ValueError
    )
    assert issubclass(emix.InputTypeError, TypeError) and issubclass(emix.InputTypeError, ValueError)
    with pytest.warns(SkConvergenceWarning, match="^Best performing initialization did not converge"):
        emix.GaussianMixture(3, max_iter=2, random_state=0).fit(faithful)
    with pytest.raises(SkNotFittedError):
        emix.GaussianMixture().predict(faithful)


def test_random_state_may_be_a_generator_for_emix_only(faithful):
    a = emix.GaussianMixture(2, random_state=np.random.default_rng(0)).fit(faithful)
    b = emix.GaussianMixture(2, random_state=np.random.default_rng(0)).fit(faithful)
    np.testing.assert_array_equal(a.means_, b.means_)
    with pytest.raises(ValueError, match="random_state"):
        SkGM(2, random_state=np.random.default_rng(0)).fit(faithful)


@pytest.mark.parametrize("init", ["k-means++", "random_from_data"])
def test_seeded_starts_give_scikit_learn_one_point_per_seed_and_emix_every_row(faithful, init):
    sk = SkGM(3, init_params=init, max_iter=0, random_state=0).fit(faithful)
    em = emix.GaussianMixture(3, init_params=init, max_iter=0, random_state=0).fit(faithful)
    np.testing.assert_allclose(sk.weights_, 1 / len(faithful))  # one row per component
    assert em.weights_.sum() == pytest.approx(1.0) and (em.weights_ > 0.2).all()


def test_the_random_start_does_not_depend_on_the_chunks(faithful):
    fits = [
        emix.GaussianMixture(3, init_params="random", max_iter=0, random_state=0, chunk_size=c).fit(faithful)
        for c in (None, 50, 7)
    ]
    for other in fits[1:]:
        np.testing.assert_allclose(other.means_, fits[0].means_, rtol=1e-12)


def test_verbose_logs_through_the_emix_logger_not_print(faithful, caplog, capsys):
    import logging

    with caplog.at_level(logging.INFO, logger="emix"):
        emix.GaussianMixture(2, random_state=0, verbose=1, verbose_interval=2).fit(faithful)
    assert any("log-likelihood" in r.getMessage() for r in caplog.records if r.name == "emix")
    assert capsys.readouterr().out == ""
