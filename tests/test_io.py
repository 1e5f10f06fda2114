"""The model file: round trip, and a clear ModelFileError for every bad file."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

import emix
from emix import ModelFileError
from emix.io import FORMAT_VERSION, META_NAME

COV_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def X():
    return emix.datasets.load_faithful()


@pytest.fixture
def saved(tmp_path, X):
    path = tmp_path / "model.emix"
    emix.GaussianMixture(3, covariance_type="full", random_state=0).fit(X).save(path)
    return path


def rewrite(path, meta_fn=None, member_fn=None):
    """Rewrite a model file, changing its metadata or members (simulating tampering)."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members[META_NAME])
    if meta_fn:
        meta_fn(meta)
    members[META_NAME] = json.dumps(meta).encode()
    if member_fn:
        member_fn(members, meta)
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("cov", COV_TYPES)
def test_round_trip(tmp_path, X, cov):
    m = emix.GaussianMixture(3, covariance_type=cov, random_state=0, means_init=X[:3]).fit(X)
    path = tmp_path / f"{cov}.emix"
    m.save(path)
    r = emix.load(path)
    assert type(r) is emix.GaussianMixture
    assert r.get_params().keys() == m.get_params().keys()
    for name in (
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
        "precisions_",
        "history_",
        "accelerated_",
    ):
        np.testing.assert_array_equal(getattr(r, name), getattr(m, name))
    assert r.init_used_ == m.init_used_
    np.testing.assert_array_equal(r.means_init, m.means_init)
    assert (r.converged_, r.n_iter_, r.lower_bound_) == (m.converged_, m.n_iter_, m.lower_bound_)
    np.testing.assert_array_equal(r.predict_proba(X), m.predict_proba(X))
    np.testing.assert_array_equal(r.score_samples(X), m.score_samples(X))


def test_float32_round_trip(tmp_path, X):
    m = emix.GaussianMixture(2, random_state=0).fit(X.astype(np.float32))
    m.save(tmp_path / "m.emix")
    r = emix.load(tmp_path / "m.emix")
    assert r.means_.dtype == m.means_.dtype
    np.testing.assert_array_equal(r.predict(X), m.predict(X))


def test_file_is_a_documented_zip_of_json_and_npy(saved):
    with zipfile.ZipFile(saved) as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read(META_NAME))
    assert META_NAME in names and all(n.endswith(".npy") for n in names - {META_NAME})
    assert meta["format"] == "emix-model" and meta["version"] == FORMAT_VERSION
    assert meta["estimator"] == "GaussianMixture"
    assert meta["params"]["n_components"] == 3


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path, X, saved):
    before = saved.read_bytes()
    m = emix.GaussianMixture(2, random_state=1).fit(X)
    m.save(saved)  # replaces the file whole
    assert saved.read_bytes() != before
    assert os.listdir(tmp_path) == ["model.emix"]
    emix.load(saved)


def test_failed_save_keeps_the_old_file(tmp_path, X, saved, monkeypatch):
    before = saved.read_bytes()
    import emix._files as files

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        emix.GaussianMixture(2, random_state=1).fit(X).save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.emix"]


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(emix.NotFittedError):
        emix.GaussianMixture(2).save(tmp_path / "m.emix")


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        emix.load(tmp_path / "nope.emix")


def test_directory(tmp_path):
    with pytest.raises(ModelFileError, match="is a directory"):
        emix.load(tmp_path)


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, 0.9])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    saved.write_bytes(data[:n])
    with pytest.raises(ModelFileError, match="model.emix: not an emix model file"):
        emix.load(saved)


def test_not_a_model(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ModelFileError, match="not a ZIP archive"):
        emix.load(p)


def test_pickle_is_never_read(tmp_path, X):
    # a zip with a pickle inside, disguised as a model array: refused, not executed
    p = tmp_path / "evil.emix"
    emix.GaussianMixture(2, random_state=0).fit(X).save(p)

    def swap(members, meta):
        buf = io.BytesIO()
        np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        blob = buf.getvalue()
        entry = meta["arrays"]["means_"]
        import hashlib

        entry["sha256"] = hashlib.sha256(blob).hexdigest()
        members[entry["file"]] = blob
        members[META_NAME] = json.dumps(meta).encode()

    rewrite(p, member_fn=swap)
    with pytest.raises(ModelFileError, match="array 'means_' cannot be read"):
        emix.load(p)


def test_corrupt_member_detected_by_crc(saved):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo("means_.npy")
    # flip a byte inside the stored (compressed) data of one member
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    data[start] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="member 'means_.npy' is corrupt"):
        emix.load(saved)


def test_tampered_array_fails_checksum(saved):
    def change(members, meta):
        members["means_.npy"] = npy(np.zeros((3, 2)))

    rewrite(saved, member_fn=change)
    with pytest.raises(ModelFileError, match="array 'means_' does not match its checksum"):
        emix.load(saved)


def test_tampered_consistently_but_inconsistent_model(saved):
    # an attacker who also updates the checksum still cannot load nonsense
    import hashlib

    def change(members, meta):
        blob = npy(np.full((3, 2, 2), 5.0))  # covariances not matching precisions
        members["covariances_.npy"] = blob
        meta["arrays"]["covariances_"]["sha256"] = hashlib.sha256(blob).hexdigest()
        members[META_NAME] = json.dumps(meta).encode()

    rewrite(saved, member_fn=change)
    with pytest.raises(ModelFileError, match="inconsistent model: component 0"):
        emix.load(saved)


def test_wrong_version(saved):
    rewrite(saved, meta_fn=lambda m: m.update(version=99, emix_version="9.9"))
    with pytest.raises(ModelFileError, match="format version 99 is not supported; this emix reads version 1"):
        emix.load(saved)


def test_wrong_format_name(saved):
    rewrite(saved, meta_fn=lambda m: m.update(format="something-else"))
    with pytest.raises(ModelFileError, match="format is 'something-else'"):
        emix.load(saved)


def test_unknown_estimator_is_not_imported(saved):
    rewrite(saved, meta_fn=lambda m: m.update(estimator="os.system"))
    with pytest.raises(ModelFileError, match="unknown estimator 'os.system'"):
        emix.load(saved)


def test_bad_json(saved):
    def change(members, meta):
        members[META_NAME] = b"{not json"

    rewrite(saved, member_fn=change)
    with pytest.raises(ModelFileError, match="metadata is not valid JSON"):
        emix.load(saved)


def test_bad_parameter_in_file(saved):
    rewrite(saved, meta_fn=lambda m: m["params"].update(covariance_type="weird"))
    with pytest.raises(ModelFileError, match="invalid parameters: covariance_type must be one of"):
        emix.load(saved)


def test_unknown_parameter_in_file(saved):
    rewrite(saved, meta_fn=lambda m: m["params"].update(exec="rm -rf /"))
    with pytest.raises(ModelFileError, match=r"unknown constructor parameter\(s\) \['exec'\]"):
        emix.load(saved)


def test_shape_mismatch_with_metadata(saved):
    rewrite(saved, meta_fn=lambda m: m["arrays"]["means_"].update(shape=[4, 2]))
    with pytest.raises(
        ModelFileError,
        match=r"means_\.npy: array 'means_' declares shape \[4, 2\]; n_components=3 and n_features_in_=2 "
        r"need \[3, 2\]",
    ):
        emix.load(saved)
    rewrite(saved, meta_fn=lambda m: m["arrays"]["means_"].update(shape=[3, 2]))
    rewrite(saved, meta_fn=lambda m: m["arrays"]["history_"].update(shape=[2]))
    with pytest.raises(
        ModelFileError, match=r"history_\.npy: array 'history_' has shape \[\d+\], metadata says \[2\]"
    ):
        emix.load(saved)


def test_missing_array(saved):
    rewrite(saved, meta_fn=lambda m: m["arrays"].pop("weights_"))
    with pytest.raises(ModelFileError, match=r"missing fitted value\(s\) \['weights_'\]"):
        emix.load(saved)


def test_weights_not_summing_to_one(saved):
    import hashlib

    def change(members, meta):
        blob = npy(np.array([0.5, 0.5, 0.5]))
        members["weights_.npy"] = blob
        meta["arrays"]["weights_"]["sha256"] = hashlib.sha256(blob).hexdigest()
        members[META_NAME] = json.dumps(meta).encode()

    rewrite(saved, member_fn=change)
    with pytest.raises(ModelFileError, match="weights_ must be 3 non-negative numbers summing to 1"):
        emix.load(saved)
