"""What select shows and takes: its repr, HTML view and table, progress, warnings, tol, missing values."""

import math
import warnings

import numpy as np
import pytest

import emix
from emix.engine import ConvergenceMonitor
from emix.selection import SelectionWarning

FAITHFUL = emix.datasets.load_faithful()


@pytest.fixture(scope="module")
def iris_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionWarning)
        return emix.select(emix.datasets.load_iris(), n_jobs=1)


def test_repr_names_the_best_and_the_top_five(iris_result):
    text = repr(iris_result)
    lines = text.splitlines()
    assert "best by BIC: VEV, K=2" in lines[1]
    rows = [ln for ln in lines if ln.startswith("  ") and not ln.strip().startswith("model")]
    assert len(rows) == 5 and rows[0].split()[:2] == ["VEV", "2"]
    assert "NA (degenerate, never chosen): VEE,5" in text
    assert max(len(ln) for ln in lines) <= 80


def test_table_fits_80_columns_and_marks_na_and_the_best(iris_result):
    text = iris_result.format_table()
    assert max(len(ln) for ln in text.splitlines()) <= 80
    assert "-561.728*" in text and text.count("NA") == 5
    assert all(m in text for m in iris_result.models)
    wide = iris_result.format_table(width=200)
    assert len(wide.split("\n\n")) == 1 and len(text.split("\n\n")) == 2


def test_html_view(iris_result):
    html = iris_result._repr_html_()
    assert html.startswith("<div>") and "<table" in html and "VEV, K=2" in html
    assert html.count(">NA<") == 5
    assert "font-weight:bold" in html  # the best cell


def test_progress_callback_sees_every_fit():
    seen = []
    res = emix.select(
        FAITHFUL, n_components=[1, 2, 3], models=["EII", "VVV"], n_jobs=1, progress=lambda *a: seen.append(a)
    )
    assert [d for d, _, _ in seen] == list(range(1, 7))
    assert {t for _, t, _ in seen} == {6}
    assert {(r.model, r.n_components) for _, _, r in seen} == {(r.model, r.n_components) for r in res.records}


def test_progress_with_workers():
    seen = []
    emix.select(
        FAITHFUL, n_components=[1, 2], models=["EII", "EEE"], n_jobs=2, progress=lambda *a: seen.append(a)
    )
    assert sorted(d for d, _, _ in seen) == [1, 2, 3, 4]


def test_warnings_are_kept_per_cell_and_summarised_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = emix.select(emix.datasets.load_iris(), models=["VEE", "VVV"], n_jobs=1)
    assert [w.category for w in caught] == [SelectionWarning]
    assert "3 of 18 fits are NA" in str(caught[0].message)
    na = res.record("VEE", 5)
    assert any("DegenerateComponentWarning" in line for line in na.warnings)
    frame = res.to_frame()
    assert "warnings" in frame.columns and "message" in frame.columns


def test_no_warning_when_every_fit_is_clean():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        emix.select(FAITHFUL, n_components=[1, 2, 3], models=["EEE", "VVV"], n_jobs=1)


def test_tol_is_honoured():
    loose = emix.select(FAITHFUL, n_components=[2, 3, 4], models=["VVV", "VEV"], n_jobs=1, tol=1e-3)
    tight = emix.select(FAITHFUL, n_components=[2, 3, 4], models=["VVV", "VEV"], n_jobs=1, tol=1e-8)
    assert sum(r.n_iter for r in loose.records) < sum(r.n_iter for r in tight.records)
    for a, b in zip(loose.records, tight.records, strict=True):
        assert b.log_likelihood >= a.log_likelihood - 1e-9 * abs(a.log_likelihood)


def test_mclust_rule():
    mon = ConvergenceMonitor(1e-5, 100.0, rule="mclust")
    for ll in (-1000.0, -999.0, -998.995):
        mon.record(ll)
    assert not ConvergenceMonitor(1e-5, 100.0, rule="mclust").converged
    assert mon.converged  # |change| 0.005 <= 1e-5 * (1 + 998.995)
    mon.record(-998.9)
    assert not mon.converged


def test_one_dimensional_data_get_mclusts_two_models():
    res = emix.select(emix.datasets.load_galaxies(), n_jobs=1)
    assert res.models == ("E", "V") and (res.best_model, res.best_n_components) == ("V", 4)


def test_fewer_rows_than_features_get_the_diagonal_models():
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionWarning)
        res = emix.select(rng.normal(size=(5, 6)), n_components=[1, 2], n_jobs=1)
    assert res.models == ("EII", "VII", "EEI", "VEI", "EVI", "VVI")


def test_missing_values():
    X = emix.datasets.load_iris().copy()
    rng = np.random.default_rng(0)
    X[rng.random(X.shape) < 0.05] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionWarning)
        res = emix.select(X, n_components=[1, 2, 3], models=["VEV", "VVV", "EEE"], n_jobs=1)
    assert math.isfinite(res.best.bic) and res.best_n_components >= 2
    labels = res.best_estimator.predict(X)
    assert labels.shape == (150,)
    assert np.isfinite(res.best_estimator.score_samples(X)).all()


def test_bad_arguments_raise_once_before_fitting():
    with pytest.raises(emix.InvalidParameterError, match="tol"):
        emix.select(FAITHFUL, tol=-1.0)
    with pytest.raises(emix.InvalidParameterError, match="convergence"):
        emix.select(FAITHFUL, convergence="never")
