"""``emix.select`` (the (model, K) grid) on bad and extreme data and grids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import emix
from emix import InputTypeError, InvalidInputError, InvalidParameterError

from ._helpers import blobs, check_error, with_cell

X, Z = blobs(120)


def select(data, **kw):
    grid = {"n_components": [1, 2, 3], "models": ["EII", "VVV"], "n_jobs": 1} | kw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return emix.select(data, **grid)


ERRORS = [
    pytest.param(
        lambda: select(X, n_components=[]),
        InvalidParameterError,
        [r"the grid is empty", r"at least one model and one K"],
        id="no-k",
    ),
    pytest.param(lambda: select(X, models=[]), InvalidParameterError, [r"the grid is empty"], id="no-model"),
    pytest.param(
        lambda: select(X[:3], n_components=[5, 6]),
        InvalidParameterError,
        [r"the grid is empty", r"K in \[1, n_samples\]"],
        id="every-k-above-n",
    ),
    pytest.param(
        lambda: select(X, models=["XYZ"]),
        InvalidParameterError,
        [r"unknown model 'XYZ'", r"choose from \['E', 'EEE'"],
        id="unknown-model",
    ),
    pytest.param(
        lambda: select(X, criterion="bogus"),
        InvalidParameterError,
        [r"criterion must be one of \['bic', 'icl', 'aic'\]", r"got 'bogus'"],
        id="criterion",
    ),
    pytest.param(
        lambda: select(with_cell(X, 3, 1, np.inf)),
        InvalidInputError,
        [r"inf at row 3, column 1", r"replace the values"],
        id="inf-cell",
    ),
    pytest.param(
        lambda: select(X[:1]), InvalidInputError, [r"1 sample", r"minimum of 2 is required"], id="one-row"
    ),
    pytest.param(
        lambda: select(X[:0]), InvalidInputError, [r"0 sample", r"minimum of 2 is required"], id="no-rows"
    ),
    pytest.param(
        lambda: select(X[:, 0]), InvalidInputError, [r"1-D", r"reshape\(-1, 1\)"], id="one-dimensional"
    ),
    pytest.param(
        lambda: select(np.array([["a", "b"]] * 10)),
        InputTypeError,
        [r"non-numeric value 'a' at row 0, column 0", r"encode that column"],
        id="text",
    ),
    pytest.param(
        lambda: select(np.ones((30, 2))),
        InvalidParameterError,
        [r"no fit of the grid succeeded", r"reg_covar > 0, fewer components or standardised"],
        id="all-rows-identical",
    ),
]


@pytest.mark.parametrize("call, kind, patterns", ERRORS)
def test_bad_grid_or_data_is_a_typed_error_naming_problem_place_and_fix(call, kind, patterns):
    check_error(call, kind, patterns)


@pytest.mark.parametrize("offset", [0.0, 1e8])
def test_best_fit_is_the_two_clusters_even_with_an_offset(offset):
    best = select(X + offset).best
    assert best.n_components == 2


def test_constant_column_still_selects():
    result = select(np.c_[X, np.ones(len(X))])
    assert result.best.n_components >= 2 and np.isfinite(result.best.bic)


def test_k_above_n_rows_is_left_out_of_the_grid():
    result = select(X[:3], n_components=[1, 5])
    assert list(result.n_components) == [1]


# -- the K grid: positive ints, those above n_samples said ---------------------------------------------------
@pytest.mark.parametrize(
    "ks",
    [[0, 1], [1.5, 2], [2.0, 3], [-1, 2], [True, 2]],
    ids=["k-zero", "k-float", "k-2.0", "k-neg", "k-bool"],
)
def test_k_that_is_not_a_positive_integer_is_refused(ks):
    check_error(lambda: select(X, n_components=ks), InvalidParameterError, [r"n_components", r"positive int"])


def test_k_above_n_rows_is_said():
    with pytest.warns(UserWarning, match=r"K=5 left out of the grid: above n_samples=3.*up to 3"):
        emix.select(X[:3], n_components=[1, 5], models=["EII"], n_jobs=1)


def test_numpy_integer_k_values_are_taken():
    result = select(X, n_components=np.arange(1, 3), models=["EII"])
    assert list(result.n_components) == [1, 2]


def test_missing_values_are_fitted_not_refused():
    """select fits data with NaN (missing at random), as GaussianMixture does."""
    result = select(with_cell(X, 3, 1, np.nan), n_components=[1, 2], models=["VVV"], n_jobs=1)
    assert np.isfinite(result.record("VVV", 2).bic)
