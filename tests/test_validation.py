"""Every bad input gets an error of a documented type whose message says what and where."""

import numpy as np
import pytest

import emix
from emix import InputTypeError, InvalidInputError, InvalidParameterError, NotFittedError

GOOD = np.random.default_rng(0).normal(size=(50, 3))


def fitted(**kw):
    return emix.GaussianMixture(2, random_state=0, **kw).fit(GOOD)


@pytest.mark.parametrize("value, what", [(np.inf, "inf"), (-np.inf, "-inf")])
def test_infinity_is_named_with_its_cell(value, what):
    X = GOOD.copy()
    X[7, 1] = value
    with pytest.raises(InvalidInputError, match=f"X contains {what} at row 7, column 1"):
        emix.GaussianMixture(2, reg_covar=0).fit(X)
    with pytest.raises(InvalidInputError, match=f"X contains {what} at row 7, column 1"):
        fitted().predict(X)


def test_nan_is_named_where_missing_values_are_not_supported():
    from emix._validation import check_array

    X = GOOD.copy()
    X[3, 2] = np.nan
    with pytest.raises(InvalidInputError, match="X contains NaN at row 3, column 2"):
        check_array(X)


def test_row_with_nothing_observed_is_named():
    X = GOOD.copy()
    X[11] = np.nan
    X[20] = np.nan
    with pytest.raises(InvalidInputError, match=r"X row 11 has no observed value .*2 such row\(s\)"):
        emix.GaussianMixture(2, reg_covar=0).fit(X)
    with pytest.raises(InvalidInputError, match="X row 11 has no observed value"):
        fitted().predict(X)


def test_non_numeric_cell_is_named():
    X = GOOD.astype(object)
    X[4, 0] = "abc"
    with pytest.raises(InputTypeError, match=r"non-numeric value 'abc' at row 4, column 0"):
        emix.GaussianMixture(2, reg_covar=0).fit(X)


def test_numeric_strings_are_accepted():
    X = GOOD.astype(str)
    m = emix.GaussianMixture(2, random_state=0).fit(X)
    assert m.means_.shape == (2, 3)


def test_complex_data_is_refused():
    with pytest.raises(InputTypeError, match="complex"):
        emix.GaussianMixture(2).fit(GOOD + 1j)


def test_type_errors_are_also_value_errors():
    # code written for scikit-learn catches ValueError
    with pytest.raises(ValueError):
        emix.GaussianMixture(2).fit(GOOD + 1j)
    with pytest.raises(TypeError):
        emix.GaussianMixture(2).fit(GOOD + 1j)


def test_one_dimensional_input():
    with pytest.raises(InvalidInputError, match=r"1-D with shape \(50,\).*reshape\(-1, 1\)"):
        emix.GaussianMixture(2).fit(GOOD[:, 0])


def test_three_dimensional_input():
    with pytest.raises(InvalidInputError, match="3 dimensions"):
        emix.GaussianMixture(2).fit(GOOD.reshape(5, 10, 3))


def test_empty_input():
    with pytest.raises(InvalidInputError, match=r"X has 0 samples; at least 2 are needed"):
        emix.GaussianMixture(2).fit(np.empty((0, 3)))
    with pytest.raises(InvalidInputError, match=r"0 feature\(s\) \(shape=\(5, 0\)\)"):
        emix.GaussianMixture(2).fit(np.empty((5, 0)))


def test_none_and_strings():
    with pytest.raises(InputTypeError, match="X is None"):
        emix.GaussianMixture(2).fit(None)
    with pytest.raises(InputTypeError, match="string"):
        emix.GaussianMixture(2).fit("data.csv")


def test_ragged_input():
    with pytest.raises(InvalidInputError, match="could not be read as a 2-D array"):
        emix.GaussianMixture(1).fit([[1.0, 2.0], [3.0]])


def test_fewer_samples_than_components():
    with pytest.raises(InvalidInputError, match="n_components = 5, n_samples = 3"):
        emix.GaussianMixture(5).fit(GOOD[:3])


def test_single_sample():
    with pytest.raises(InvalidInputError, match="at least 2"):
        emix.GaussianMixture(1).fit(GOOD[:1])


def test_wrong_feature_count_at_predict():
    m = fitted()
    for method in ("predict", "predict_proba", "score_samples", "score", "bic", "aic"):
        with pytest.raises(
            InvalidInputError, match="X has 2 features, but GaussianMixture is expecting 3 features as input"
        ):
            getattr(m, method)(GOOD[:, :2])


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        emix.GaussianMixture(2).predict(GOOD)
    with pytest.raises(NotFittedError):
        emix.GaussianMixture(2).sample(3)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(n_components=0), "n_components must be >= 1, got 0"),
        (dict(n_components=2.5), "n_components must be int"),
        (dict(n_components=True), "n_components must be int"),
        (dict(covariance_type="banana"), "covariance_type must be one of"),
        (dict(tol=-1.0), "tol must be >= 0"),
        (dict(tol=float("nan")), "tol must be finite"),
        (dict(reg_covar=-1e-6), "reg_covar must be >= 0"),
        (dict(max_iter=-1), "max_iter must be >= 0"),
        (dict(n_init=0), "n_init must be >= 1"),
        (dict(init_params="magic"), "init_params must be one of"),
        (dict(random_state="seed"), "random_state must be None, an int"),
        (dict(random_state=-3), "random_state must be non-negative"),
        (dict(warm_start="yes"), "warm_start must be a bool"),
        (dict(chunk_size=0), "chunk_size must be >= 1"),
        (dict(verbose=-1), "verbose must be >= 0"),
    ],
)
def test_bad_parameters(kw, message):
    kw = {"n_components": 2, **kw}
    with pytest.raises(InvalidParameterError, match=message):
        emix.GaussianMixture(**kw).fit(GOOD)


def test_constructor_does_not_validate():
    # scikit-learn's convention: validation happens in fit
    m = emix.GaussianMixture(n_components=-4, covariance_type="nope")
    assert m.n_components == -4


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(weights_init=[0.5, 0.3, 0.2]), r"weights_init has shape \(3,\); expected \(2,\)"),
        (dict(weights_init=[0.7, 0.7]), "weights_init must sum to 1"),
        (dict(weights_init=[1.5, -0.5]), r"weights_init must lie in \[0, 1\]"),
        (dict(means_init=np.zeros((2, 4))), r"means_init has shape \(2, 4\); expected \(2, 3\)"),
        (dict(means_init=np.full((2, 3), np.nan)), "means_init contains NaN"),
        (dict(precisions_init=np.ones((2, 3))), r"precisions_init has shape \(2, 3\).*needs \(2, 3, 3\)"),
        (
            dict(precisions_init=np.array([np.eye(3), -np.eye(3)])),
            r"precisions_init\[1\] is not positive definite",
        ),
        (
            dict(precisions_init=np.array([np.eye(3), np.triu(np.ones((3, 3)))])),
            r"precisions_init\[1\] is not symmetric",
        ),
        (dict(covariance_type="diag", precisions_init=np.array([[1.0, 1, 1], [1, 0, 1]])), r"entry \(1, 1\)"),
        (dict(covariance_type="spherical", precisions_init=np.array([1.0, -2.0])), "must be positive"),
        (dict(covariance_type="tied", precisions_init=np.eye(2)), r"needs \(3, 3\)"),
    ],
)
def test_bad_initial_parameters(kw, message):
    with pytest.raises(InvalidParameterError, match=message):
        emix.GaussianMixture(2, **kw).fit(GOOD)


def test_bad_sample_weight():
    m = emix.GaussianMixture(2)
    with pytest.raises(InvalidInputError, match=r"sample_weight has shape \(3,\); expected \(50,\)"):
        m.fit(GOOD, sample_weight=[1, 2, 3])
    w = np.ones(50)
    w[9] = -1
    with pytest.raises(InvalidInputError, match="sample_weight is negative at row 9"):
        m.fit(GOOD, sample_weight=w)
    with pytest.raises(InvalidInputError, match="zero for every row"):
        m.fit(GOOD, sample_weight=np.zeros(50))
    w = np.ones(50)
    w[2] = np.nan
    with pytest.raises(InvalidInputError, match="sample_weight contains NaN at row 2"):
        m.fit(GOOD, sample_weight=w)


def test_bad_sample_count():
    with pytest.raises(InvalidParameterError, match="n_samples must be >= 1"):
        fitted().sample(0)


def test_set_params_unknown_name():
    with pytest.raises(InvalidParameterError, match="invalid parameter 'n_component'"):
        emix.GaussianMixture().set_params(n_component=3)


def test_all_finite_is_exact_when_the_sum_overflows():
    """The one-read test falls back to testing every value when finite values overflow the sum."""
    from emix._validation import all_finite

    big = np.full((4, 3), 1e308)
    assert all_finite(big)
    big[2, 1] = np.inf
    assert not all_finite(big)
    assert not all_finite(np.array([[np.inf, -np.inf]]))  # their sum is NaN
    assert not all_finite(np.array([[1.0, np.nan]], dtype=np.float32))
    assert all_finite(np.asfortranarray(np.ones((5, 2))))


def test_fit_names_the_bad_cell_when_the_sum_overflows():
    """Values whose sum overflows are not taken for inf; an inf among them is reported with its cell."""
    X = np.random.default_rng(0).normal(size=(50, 2)) * 1e307
    with pytest.raises(emix.NumericalError):  # the data pass validation; their covariance overflows
        emix.GaussianMixture(2, random_state=0, max_iter=2).fit(X)
    X[7, 1] = np.inf
    with pytest.raises(InvalidInputError, match="inf at row 7, column 1"):
        emix.GaussianMixture(2, random_state=0).fit(X)


def test_distinct_rows_ignore_nan_and_zero_weight_rows_block_by_block():
    """Rows with NaN or zero weight do not count as distinct rows, wherever they are."""
    import emix
    from emix.exceptions import InvalidInputError as Bad

    X = np.zeros((9000, 2))
    X[5000:, 0] = np.nan  # distinct values only in rows that have a NaN
    X[5000:, 1] = np.arange(4000.0)
    with pytest.raises(Bad, match="1 distinct complete row"):
        emix.GaussianMixture(2, reg_covar=0).fit(X)
    Y = np.zeros((9000, 2))
    Y[6000:] = np.arange(6000.0).reshape(-1, 2)
    w = np.ones(9000)
    w[6000:] = 0.0
    with pytest.raises(Bad, match="1 distinct complete row"):
        emix.GaussianMixture(2, reg_covar=0).fit(Y, sample_weight=w)
