"""``emix.load`` on missing, corrupt and crafted model files: always a ModelFileError naming file,
member and problem, and never a model that predicts NaN or an allocation the file cannot back."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import emix
from emix import ModelFileError

from ._helpers import blobs, check_error

X, _ = blobs()
FIX = r"(?i)refit|restore|give the path"


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def members_of(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}, json.loads(zf.read("emix.json"))


def write(path, members, meta=None, *, checksums=True, compression=zipfile.ZIP_DEFLATED):
    """Write an archive; with ``checksums`` the metadata's SHA-256 match the members (a careful forger)."""
    members = dict(members)
    if meta is not None:
        if checksums:
            for entry in meta["arrays"].values():
                if entry["file"] in members:
                    entry["sha256"] = hashlib.sha256(members[entry["file"]]).hexdigest()
        members["emix.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)


def forge(path, key, change):
    """Replace array ``key`` by ``change(array)``, metadata and checksums made to agree."""
    members, meta = members_of(path)
    entry = meta["arrays"][key]
    arr = change(np.load(io.BytesIO(members[entry["file"]])).copy())
    members[entry["file"]] = npy(arr)
    entry.update(shape=list(arr.shape), dtype=arr.dtype.str)
    write(path, members, meta)


def entry_set(i, value):
    def change(arr):
        arr = arr.astype(np.float64)
        arr.flat[i] = value
        return arr

    return change


ESTIMATORS = {
    "full": lambda: emix.GaussianMixture(2, random_state=0).fit(X),
    "tied": lambda: emix.GaussianMixture(2, covariance_type="tied", random_state=0).fit(X),
    "diag": lambda: emix.GaussianMixture(2, covariance_type="diag", random_state=0).fit(X),
    "spherical": lambda: emix.GaussianMixture(2, covariance_type="spherical", random_state=0).fit(X),
    "EEE": lambda: emix.GaussianMixture(2, covariance_type="EEE", random_state=0).fit(X),
    "VEV": lambda: emix.GaussianMixture(2, covariance_type="VEV", random_state=0).fit(X),
    "student": lambda: emix.StudentMixture(2, random_state=0).fit(X),
    "bernoulli": lambda: emix.BernoulliMixture(2, random_state=0).fit((X > 3) * 1.0),
    "poisson": lambda: emix.PoissonMixture(2, random_state=0).fit(np.abs(X).round()),
    "categorical": lambda: emix.Mixture(2, family="categorical", random_state=0).fit(
        np.abs(X).round().clip(0, 3)
    ),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, make in ESTIMATORS.items():
            make().save(d / f"{name}.emix")
    return d


@pytest.fixture
def model(saved, tmp_path, request):
    name = getattr(request, "param", "full")
    path = tmp_path / "model.emix"
    path.write_bytes((saved / f"{name}.emix").read_bytes())
    return path


def refused(path, member, *patterns):
    patterns = [rf"^{path}: "] + ([rf": {member}: "] if member else []) + list(patterns)
    return check_error(lambda: emix.load(path), ModelFileError, patterns)


# -- the file as a whole -------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    refused(tmp_path / "nope.emix", None, r"no such file")


def test_directory(tmp_path):
    refused(tmp_path, None, r"is a directory")


def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.emix")
    refused(tmp_path / "pipe.emix", None, r"is a FIFO", FIX)


def test_device_is_refused_without_reading_forever():
    check_error(lambda: emix.load("/dev/zero"), ModelFileError, [r"/dev/zero: is a character device", FIX])


def test_empty_file(model):
    model.write_bytes(b"")
    refused(model, None, r"the file is empty")


@pytest.mark.parametrize("keep", [0.5, 0.9, 30])
def test_truncated_file(model, keep):
    data = model.read_bytes()
    model.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    refused(model, None, r"not a ZIP archive, or truncated")


def test_flipped_byte_names_the_member_and_its_byte(model):
    data = bytearray(model.read_bytes())
    with zipfile.ZipFile(model) as zf:
        info = zf.getinfo("means_.npy")
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF
    model.write_bytes(bytes(data))
    refused(model, "means_.npy", r"is corrupt", rf"starts at byte offset {info.header_offset}", FIX)


def test_member_held_twice(model):
    members, _ = members_of(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(model, "a") as zf:
            zf.writestr("means_.npy", members["means_.npy"])
    refused(model, "means_.npy", r"holds this member twice", FIX)


# -- the metadata ----------------------------------------------------------------------------------------
def test_json_error_names_line_column_and_byte(model):
    members, _ = members_of(model)
    members["emix.json"] = b'{"format": "emix-model",\n "version": 1,,}'
    write(model, members)
    refused(model, "emix.json", r"not valid JSON", r"line 2, column 15, byte offset 39")


def test_nan_in_json_is_refused(model):
    members, _ = members_of(model)
    members["emix.json"] = members["emix.json"].replace(b'"lower_bound_": ', b'"lower_bound_": NaN, "x": ')
    write(model, members)
    refused(model, "emix.json", r"NaN is not a JSON number")


@pytest.mark.parametrize(
    "scalar, value, want",
    [
        ("n_iter_", -1, r"n_iter_ must be an int >= 0"),
        ("converged_", "yes", r"converged_ must be a bool"),
        ("n_features_in_", True, r"n_features_in_ must be an int >= 1"),
        ("lower_bound_", "x", r"lower_bound_ must be a finite number"),
        ("init_used_", 3, r"init_used_ must be a string"),
    ],
)
def test_fitted_scalar_of_the_wrong_type(model, scalar, value, want):
    members, meta = members_of(model)
    meta["scalars"][scalar] = value
    write(model, members, meta)
    refused(model, "emix.json", want, r"the file says")


@pytest.mark.parametrize(
    "change, want",
    [
        (lambda m: m.update(version=99, emix_version="9.9"), r"version 99 is not supported.*reads version 1"),
        (lambda m: m.update(estimator="os.system"), r"unknown estimator 'os.system'"),
        (lambda m: m["params"].update(exec="rm -rf /"), r"unknown constructor parameter\(s\) \['exec'\]"),
        (
            lambda m: m["params"].update(n_components=0),
            r"invalid parameters: n_components must be >= 1.*refit",
        ),
        (lambda m: m["arrays"]["means_"].update(dtype="|O"), r"means_\.npy: array 'means_' has dtype '\|O'"),
        (lambda m: m["arrays"]["means_"].update(shape=[2, -1]), r"non-negative sizes"),
        (
            lambda m: m["arrays"]["means_"].update(shape=[5, 2]),
            r"n_components=2 and n_features_in_=2 need \[2, 2\]",
        ),
        (lambda m: m["arrays"]["history_"].update(shape=[3, 3]), r"history_.npy: .*one-dimensional"),
        (lambda m: m["arrays"].pop("weights_"), r"missing fitted value\(s\) \['weights_'\]"),
    ],
    ids=[
        "version",
        "estimator",
        "param-unknown",
        "param-invalid",
        "dtype",
        "shape",
        "k",
        "history",
        "missing",
    ],
)
def test_metadata_that_does_not_describe_a_model(model, change, want):
    members, meta = members_of(model)
    change(meta)
    write(model, members, meta, checksums=False)
    refused(model, None, want)


# -- the arrays' sizes, checked before anything is allocated -----------------------------------------------
def _peak_mb_while_refusing(path, *patterns):
    tracemalloc.start()
    try:
        refused(path, "history_.npy", *patterns)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_npy_header_declaring_380_mb_in_a_2_kb_file(model):
    members, meta = members_of(model)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (47_500_000,)}
    )
    members["history_.npy"] = buf.getvalue() + b"\0" * 64
    meta["arrays"]["history_"]["shape"] = [47_500_000]
    write(model, members, meta)
    assert os.path.getsize(model) < 10_000
    assert _peak_mb_while_refusing(model, r"declares shape \[47500000\]", r"more than this file can hold") < 5


def test_array_declaring_more_than_the_file_holds_even_compressed(model):
    members, meta = members_of(model)
    zeros = np.zeros(5_000_000)  # 40 MB of zeros: deflate stores it in about 40 kB
    members["history_.npy"] = npy(zeros)
    meta["arrays"]["history_"]["shape"] = [zeros.size]
    meta["arrays"]["accelerated_"]["shape"] = [zeros.size]
    write(model, members, meta)
    assert os.path.getsize(model) < 200_000
    assert _peak_mb_while_refusing(model, r"more than this file can hold", FIX) < 5


def test_metadata_that_decompresses_1000_times(model):
    members, meta = members_of(model)
    members["emix.json"] = json.dumps(meta).encode() + b" " * 10_000_000
    write(model, members)
    tracemalloc.start()
    try:
        refused(model, "emix.json", r"compressed over 100 times", FIX)
        assert tracemalloc.get_traced_memory()[1] / 1e6 < 5
    finally:
        tracemalloc.stop()


def test_npy_header_disagreeing_with_the_metadata(model):
    members, meta = members_of(model)
    members["means_.npy"] = npy(np.zeros((2, 3)))[:-16]  # header says (2, 3), 32 bytes of data for (2, 2)
    write(model, members, meta)
    refused(model, "means_.npy", r"has shape \[2, 3\], metadata says \[2, 2\]")


def test_trailing_bytes_after_the_data(model):
    members, meta = members_of(model)
    blob = members["weights_.npy"]
    members["weights_.npy"] = blob[:-16] + npy(np.zeros(4))[-32:-16] + blob[-16:]
    write(model, members, meta)
    check_error(lambda: emix.load(model), ModelFileError, [r"weights_\.npy: ", r"weights_"])


def test_pickle_is_never_read(model):
    members, meta = members_of(model)
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    members["means_.npy"] = buf.getvalue()
    meta["arrays"]["means_"]["dtype"] = "<f8"
    write(model, members, meta)
    refused(model, "means_.npy", r"array 'means_' cannot be read")


# -- what the numbers say ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model, square",
    [("full", 3), ("tied", 2), ("diag", 0), ("spherical", 0), ("EEE", 2), ("VEV", 3), ("student", 3)],
    indirect=["model"],
)
def test_sign_flipped_cholesky_column_is_refused_not_nan(model, square):
    def flip(pc):  # U U^T is unchanged, so the covariances still agree; the log-determinant is NaN
        if square == 3:
            pc[0][:, -1] *= -1
        elif square == 2:
            pc[:, -1] *= -1
        else:
            pc.flat[0] *= -1
        return pc

    forge(model, "precisions_cholesky_", flip)
    refused(model, "precisions_cholesky_.npy", r"(component 0|shared factor)", r"positive", FIX)


@pytest.mark.parametrize(
    "key, change, want",
    [
        ("means_", entry_set(1, np.nan), r"means_\.npy: array 'means_' holds nan at index \[0, 1\]"),
        ("covariances_", entry_set(0, np.inf), r"covariances_\.npy: .*holds inf"),
        ("weights_", lambda w: np.array([1.2, -0.2]), r"weights_\.npy: weights_ must be 2 non-negative"),
        ("weights_", lambda w: w * 0.5, r"summing to 1"),
        ("precisions_cholesky_", lambda pc: pc + np.tril(np.ones_like(pc), -1), r"not upper triangular"),
        ("precisions_cholesky_", lambda pc: pc * 2, r"inconsistent model: component 0: .* do not agree"),
        ("covariances_", entry_set(1, 0.7), r"covariances_\.npy, precisions_cholesky_\.npy: .*do not agree"),
    ],
    ids=["nan", "inf", "negative-weight", "weights-sum", "not-triangular", "factor-mismatch", "cov-mismatch"],
)
def test_forged_numbers_are_refused_naming_member_and_entry(model, key, change, want):
    forge(model, key, change)
    refused(model, None, want, FIX)


@pytest.mark.parametrize(
    "model, key, change, want",
    [
        ("student", "dof_", entry_set(0, -1.0), r"dof_\.npy: .*dof must be positive"),
        ("student", "precisions_cholesky_", entry_set(0, np.nan), r"precisions_cholesky_\.npy: .*holds nan"),
        ("bernoulli", "probabilities_", entry_set(1, 1.5), r"probabilities_\.npy: .*lie in \[0, 1\]"),
        ("poisson", "rates_", entry_set(1, -1.0), r"rates_\.npy: .*non-negative"),
        ("categorical", "probabilities_", entry_set(0, 0.9), r"probabilities_\.npy: .*sum to"),
    ],
    indirect=["model"],
    ids=["student-dof", "student-factor", "bernoulli", "poisson", "categorical"],
)
def test_forged_family_parameters_are_refused(model, key, change, want):
    forge(model, key, change)
    refused(model, None, want, FIX)


@pytest.mark.parametrize("model", list(ESTIMATORS), indirect=True)
def test_every_saved_model_loads_and_predicts_finite(model):
    m = emix.load(model)
    data = X if hasattr(m, "means_") else np.abs(X).round().clip(0, 1)
    assert np.isfinite(m.predict_proba(data)).all()
