"""What a scikit-learn user meets: feature names, sparse input, float32, scikit-learn's messages,
model files with the new attributes, and an ``import emix`` that imports no scikit-learn."""

import json
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
from helpers import make_blobs

import emix
from emix import EmixWarning, InputTypeError, InvalidInputError, InvalidParameterError
from emix.io import META_NAME

pd = pytest.importorskip("pandas")

COV_TYPES = ["full", "tied", "diag", "spherical"]
X, _ = make_blobs(n=300, d=3, k=3, seed=1)
COLUMNS = ["height", "weight", "age"]


def frame(data=X, columns=COLUMNS):
    return pd.DataFrame(data, columns=columns)


# -- feature names ------------------------------------------------------------------------
def test_fitting_a_data_frame_sets_feature_names_in():
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    assert isinstance(m.feature_names_in_, np.ndarray) and m.feature_names_in_.dtype == object
    assert list(m.feature_names_in_) == COLUMNS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same columns: no warning
        labels = m.predict(frame())
    plain = emix.GaussianMixture(3, random_state=0).fit(X)
    np.testing.assert_array_equal(labels, plain.predict(X))  # names change nothing else


def test_other_order_or_other_names_at_predict_time_raise():
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    with pytest.raises(
        InvalidInputError, match="Feature names must be in the same order as they were in fit"
    ):
        m.predict(frame(X[:, ::-1], COLUMNS[::-1]))
    with pytest.raises(
        InvalidInputError, match=r"unseen at fit time:\n- size\n.*yet now missing:\n- weight\n"
    ):
        m.score_samples(frame(columns=["height", "size", "age"]))
    with pytest.raises(InvalidInputError, match=r"X\[model.feature_names_in_\]"):
        m.score(frame(columns=["a", "b", "c"]))


def test_names_at_fit_but_not_at_predict_warn_and_the_reverse():
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    with pytest.warns(
        EmixWarning, match="X does not have valid feature names, but GaussianMixture was fitted"
    ):
        m.predict(X)
    plain = emix.GaussianMixture(3, random_state=0).fit(X)
    with pytest.warns(EmixWarning, match="X has feature names, but GaussianMixture was fitted without"):
        plain.predict_proba(frame())


def test_each_method_checks_the_names_once():
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    for method in ("score", "bic", "aic"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(m, method)(X)
        assert len([w for w in caught if "feature names" in str(w.message)]) == 1, method


def test_refitting_without_names_removes_them_and_non_string_names_are_ignored():
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    m.fit(X)
    assert not hasattr(m, "feature_names_in_")
    m.fit(frame(columns=[0, 1, 2]))  # integer column names are not feature names
    assert not hasattr(m, "feature_names_in_")


def test_mixed_name_types_are_refused():
    with pytest.raises(InputTypeError, match="only supported if all input features have string names"):
        emix.GaussianMixture(3).fit(frame(columns=["a", 1, "c"]))


# scikit-learn's check provokes the feature-name warnings and inspects them itself
@pytest.mark.filterwarnings("default::emix.exceptions.EmixWarning")
def test_scikit_learns_column_name_check_passes():
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    for est in (emix.GaussianMixture(), emix.PoissonMixture(), emix.StudentMixture()):
        check_dataframe_column_names_consistency(type(est).__name__, est)


def test_feature_names_survive_a_model_file(tmp_path):
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    m.save(tmp_path / "m.emix")
    r = emix.load(tmp_path / "m.emix")
    assert r.feature_names_in_.dtype == object and list(r.feature_names_in_) == COLUMNS
    with pytest.raises(InvalidInputError, match="same order"):
        r.predict(frame(X[:, ::-1], COLUMNS[::-1]))


def _strip(path, keys=(), arrays=()):
    """Rewrite a model file as an earlier emix wrote it: without ``keys`` and ``arrays``."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members[META_NAME])
    for key in keys:
        meta.pop(key, None)
    for name in arrays:
        members.pop(meta["arrays"].pop(name)["file"])
    members[META_NAME] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)


def test_files_from_before_feature_names_and_lower_bounds_still_load(tmp_path):
    m = emix.GaussianMixture(3, random_state=0).fit(frame())
    path = tmp_path / "old.emix"
    m.save(path)
    _strip(path, keys=["feature_names_in_"], arrays=["lower_bounds_"])
    r = emix.load(path)
    assert not hasattr(r, "feature_names_in_")  # absent = fitted without names
    np.testing.assert_allclose(r.lower_bounds_, m.lower_bounds_, rtol=1e-12)


def _rewrite(path, meta_fn=None, arrays=None):
    """Rewrite a model file's metadata (``meta_fn(meta)``) and replace arrays by name."""
    import hashlib
    import io

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members[META_NAME])
    for name, arr in (arrays or {}).items():
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        entry = meta["arrays"][name]
        members[entry["file"]] = buf.getvalue()
        entry.update(
            dtype=arr.dtype.str, shape=list(arr.shape), sha256=hashlib.sha256(buf.getvalue()).hexdigest()
        )
    if meta_fn is not None:
        meta_fn(meta)
    members[META_NAME] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)


@pytest.mark.parametrize(
    "meta_fn, arrays, message",
    [
        (
            lambda m: m.update(feature_names_in_=["a", 2, "c"]),
            None,
            "'feature_names_in_' is not a list of strings",
        ),
        (lambda m: m.update(feature_names_in_=["a", "b"]), None, "feature_names_in_ must be 3 strings"),
        (None, {"lower_bounds_": np.zeros(2)}, r"lower_bounds_ has shape \(2,\); history_ has"),
    ],
)
def test_a_file_with_inconsistent_new_fields_is_refused(tmp_path, meta_fn, arrays, message):
    from emix import ModelFileError

    path = tmp_path / "m.emix"
    emix.GaussianMixture(3, random_state=0).fit(frame()).save(path)
    _rewrite(path, meta_fn, arrays)
    with pytest.raises(ModelFileError, match=message):
        emix.load(path)


# -- sparse input -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array", "coo_matrix"])
def test_sparse_input_is_refused_with_what_to_do(kind):
    from scipy import sparse

    S = getattr(sparse, kind)(X)
    with pytest.raises(InputTypeError, match=r"sparse input is not supported.*X\.toarray\(\)"):
        emix.GaussianMixture(3).fit(S)
    m = emix.GaussianMixture(3, random_state=0).fit(X)
    with pytest.raises(TypeError, match="sparse"):
        m.predict(S)


# -- float32 ------------------------------------------------------------------------------
@pytest.mark.parametrize("cov", COV_TYPES)
def test_float32_data_give_float32_fitted_arrays(cov):
    m = emix.GaussianMixture(3, covariance_type=cov, random_state=0).fit(X.astype(np.float32))
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(m, name).dtype == np.float32, name
    assert m.score_samples(X.astype(np.float32)).dtype == np.float32
    assert abs(float(m.weights_.sum()) - 1) < 1e-6


def test_float32_weights_init_that_sum_to_one_in_float32_are_accepted():
    w = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    w = w / w.sum()
    assert float(w.astype(np.float64).sum()) != 1.0  # not exactly one in float64
    m = emix.GaussianMixture(3, weights_init=w, random_state=0).fit(X.astype(np.float32))
    assert m.converged_
    with pytest.raises(InvalidParameterError, match=r"must sum to 1 \(to .* for float32 weights\)"):
        emix.GaussianMixture(3, weights_init=np.array([0.1, 0.2, 0.701], dtype=np.float32)).fit(X)
    with pytest.raises(InvalidParameterError, match="should be normalized, but got sum"):
        emix.GaussianMixture(3, weights_init=[0.1, 0.2, 0.7 + 1e-6]).fit(X)  # float64: 1e-8


def test_warm_start_of_a_float32_fit_continues_from_the_float64_weights():
    X32 = X.astype(np.float32)
    m = emix.GaussianMixture(3, max_iter=3, tol=0, warm_start=True, accelerate=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emix.ConvergenceWarning)
        m.fit(X32)
        last = m.history_[-1]
        m.fit(X32)
    assert m.history_[0] == last  # the same parameters, bit for bit


# -- scikit-learn's wording in emix's messages ----------------------------------------------
def test_init_array_messages_carry_scikit_learns_wording():
    with pytest.raises(
        InvalidParameterError, match=r"The parameter 'weights' should have the shape of \(3,\)"
    ):
        emix.GaussianMixture(3, weights_init=np.ones((3, 1)) / 3).fit(X)
    with pytest.raises(
        InvalidParameterError, match=r"got min 1.1, max 1.5 .*max value 1.10000, min value 1.50000"
    ):
        emix.GaussianMixture(2, weights_init=[1.1, 1.5]).fit(X)
    with pytest.raises(InvalidParameterError, match=r"means_init has shape \(2, 3\).*'means' should have"):
        emix.GaussianMixture(3, means_init=X[:2]).fit(X)
    with pytest.raises(InvalidParameterError, match="'full precision' should have the shape of"):
        emix.GaussianMixture(3, precisions_init=np.ones((2, 3, 3))).fit(X)
    with pytest.raises(
        InvalidParameterError, match="'full precision' should be symmetric, positive-definite"
    ):
        emix.GaussianMixture(3, precisions_init=np.ones((3, 3, 3))).fit(X)
    with pytest.raises(InvalidParameterError, match="'diag precision' should be positive"):
        emix.GaussianMixture(3, covariance_type="diag", precisions_init=-np.ones((3, 3))).fit(X)


def test_sampling_nothing_is_refused_in_both_words():
    m = emix.GaussianMixture(3, random_state=0).fit(X)
    with pytest.raises(
        InvalidParameterError, match="Invalid value for 'n_samples': 0; n_samples must be >= 1"
    ):
        m.sample(0)


def test_not_fitted_message_is_scikit_learns():
    with pytest.raises(emix.NotFittedError, match=r"before using this estimator\.$"):
        emix.GaussianMixture(2).score(X)


def test_negative_values_are_named_for_non_negative_families():
    with pytest.raises(
        InvalidInputError, match=r"Negative values in data: X has value -1.0 at row 0, column 0"
    ):
        emix.PoissonMixture(2).fit(np.array([[-1.0, 2.0], [3.0, 1.0], [0.0, 2.0]]))


# -- too few distinct rows for reg_covar=0 ----------------------------------------------------
def test_no_more_distinct_rows_than_components_with_reg_covar_zero_is_refused():
    Xd = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 5, axis=0)
    with pytest.raises(
        InvalidInputError, match=r"ill-defined empirical covariance.*only 2 distinct complete row"
    ):
        emix.GaussianMixture(2, reg_covar=0).fit(Xd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emix.GaussianMixture(2, reg_covar=1e-6, random_state=0).fit(Xd)  # regularised: fits
        emix.GaussianMixture(1, reg_covar=0, random_state=0).fit(Xd)  # one component: spread


def test_rows_of_zero_weight_do_not_count_as_distinct():
    Xd = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [5.0, 2.0]])
    with pytest.raises(InvalidInputError, match="only 2 distinct"):
        emix.GaussianMixture(2, reg_covar=0).fit(Xd, sample_weight=[1, 1, 1, 1, 0])


# -- import emix stays light ------------------------------------------------------------------
def test_import_emix_and_a_fit_import_neither_sklearn_nor_pandas():
    # (a ConvergenceWarning would: emix's derives from scikit-learn's, made on first use)
    code = (
        "import sys, warnings, numpy as np, emix\n"
        "warnings.simplefilter('error')\n"
        "X = np.random.default_rng(0).normal(size=(100, 2))\n"
        "m = emix.GaussianMixture(2, random_state=0).fit(X)\n"
        "m.score(X), m.predict(X), m.bic(X), m.sample(3)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'pandas'))\n"
        "print(bad)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
