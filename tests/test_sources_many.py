"""Many files as one source: a list, a folder or a glob pattern equals the in-memory fit of the rows.

Real files in ``tmp_path``; errors name the file that holds the row and count rows within it.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import emix
from emix.sources import MultiFileSource, ParquetSource, file_source

RTOL = 1e-10


def parts(n_parts=3, n=700, seed=0):
    """Row blocks of a two-cluster data set (3 features) and their weights; sizes differ."""
    rng = np.random.default_rng(seed)
    blocks = []
    for i in range(n_parts):
        m = n + 37 * i
        X = np.where(rng.random((m, 1)) < 0.4, rng.normal(0, 1, (m, 3)), rng.normal(3, 0.7, (m, 3)))
        blocks.append((X + 50.0, rng.uniform(0.5, 2.0, m)))
    return blocks


def write(path, X, w=None):
    if path.suffix == ".npy":
        np.save(path, X)
        return path
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    if w is not None:
        frame["w"] = w
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format="%.17g")
    return path


def start(X):
    """One start for every fit: the same means, weights and precisions."""
    return dict(
        means_init=X[[0, -1]],
        weights_init=np.array([0.5, 0.5]),
        precisions_init=np.stack([np.eye(3)] * 2),
    )


def fit(data, init, **kwargs):
    model = emix.GaussianMixture(2, accelerate=False, tol=0, max_iter=5, n_jobs=1, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(data, **kwargs)


def assert_same(got, ref):
    assert got.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=RTOL)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=RTOL, atol=0, err_msg=name)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npy"])
@pytest.mark.parametrize("how", ["list", "folder", "glob"])
def test_many_files_fit_equals_the_memory_fit_of_their_rows(tmp_path, suffix, how):
    blocks = parts()
    weighted = suffix != ".npy"
    folder = tmp_path / "parts"
    folder.mkdir()
    paths = [
        write(folder / f"part-{i:02d}{suffix}", X, w if weighted else None) for i, (X, w) in enumerate(blocks)
    ]
    (folder / "notes.md").write_text("not data")  # other files in the folder are left out
    spec = {"list": paths, "folder": folder, "glob": str(folder / f"part-*{suffix}")}[how]
    src = file_source(spec, weights="w" if weighted else None, rows=256)
    assert isinstance(src, MultiFileSource) and src.paths == tuple(paths)
    X = np.vstack([X for X, _ in blocks])
    w = np.concatenate([w for _, w in blocks]) if weighted else None
    assert (src.n_samples, src.n_features) == X.shape
    ref = fit(X, start(X), sample_weight=w)
    got = fit(src, start(X))
    assert got.n_iter_ == ref.n_iter_ == 5
    assert_same(got, ref)
    np.testing.assert_array_equal(got.predict(src), ref.predict(X))


def test_files_are_read_in_the_order_of_the_list_and_sorted_in_a_folder(tmp_path):
    (Xa, _), (Xb, _) = parts(2)
    b, a = write(tmp_path / "b.parquet", Xb), write(tmp_path / "a.parquet", Xa)
    listed = file_source([b, a])
    np.testing.assert_array_equal(np.vstack([X for X, _ in listed.chunks()]), np.vstack([Xb, Xa]))
    folder = file_source(tmp_path)
    np.testing.assert_array_equal(np.vstack([X for X, _ in folder.chunks()]), np.vstack([Xa, Xb]))
    assert folder.name == str(tmp_path) and "2 ParquetSource files" in repr(folder)


def test_one_file_is_its_own_source(tmp_path):
    path = write(tmp_path / "one.csv", parts(1)[0][0])
    assert type(file_source([path])).__name__ == "CSVSource"
    assert type(file_source(str(tmp_path / "*.csv"))).__name__ == "CSVSource"


def test_the_error_names_the_file_and_the_row_within_it(tmp_path):
    blocks = parts()
    paths = []
    for i, (X, _) in enumerate(blocks):
        frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype(object)
        if i == 2:
            frame.loc[333, "b"] = "oops"
        paths.append(tmp_path / f"p{i}.csv")
        frame.to_csv(paths[-1], index=False)
    with pytest.raises(
        emix.InputTypeError, match=r"p2\.csv: column 'b' is not numeric \(row 334 holds 'oops'"
    ):
        fit(file_source(paths, rows=100), start(blocks[0][0]))


def test_a_family_check_is_relocated_to_the_file_that_holds_the_row(tmp_path):
    rng = np.random.default_rng(1)
    counts = [rng.poisson(3.0, (400 + 50 * i, 2)).astype(float) for i in range(3)]
    counts[1][321, 1] = 2.5
    paths = [write(tmp_path / f"c{i}.npy", C) for i, C in enumerate(counts)]
    with pytest.raises(emix.InvalidInputError, match=r"c1\.npy: X has value 2\.5 at row 322, column 'x1'"):
        emix.PoissonMixture(2, n_jobs=1).fit(file_source(paths, rows=64))


def test_a_row_of_a_later_csv_with_a_missing_field_names_its_file_and_line(tmp_path):
    (Xa, _), (Xb, _) = parts(2)
    a, b = write(tmp_path / "a.csv", Xa), write(tmp_path / "b.csv", Xb)
    lines = b.read_text().splitlines()
    lines[100] = "1,2"
    b.write_text("\n".join(lines) + "\n")
    with pytest.raises(emix.InvalidInputError, match=r"b\.csv: line 101 has 2 fields where the header"):
        fit(file_source([a, b]), start(Xa))


@pytest.mark.parametrize(
    "second, how",
    [
        (pd.DataFrame({"a": [1.0], "b": [2.0]}), r"column 'c' is missing"),
        (
            pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0], "d": [4.0]}),
            r"it has column 'd', which the first has not",
        ),
        (pd.DataFrame({"b": [2.0], "a": [1.0], "c": [3.0]}), r"its columns are in another order \(b, a, c\)"),
        (pd.DataFrame({"a": [1.0], "b": [2], "c": [3.0]}), r"column 'b' is int64 here but double there"),
    ],
)
def test_files_of_another_schema_are_named_with_what_differs(tmp_path, second, how):
    first = write(tmp_path / "p0.parquet", parts(1)[0][0])
    other = tmp_path / "p1.parquet"
    second.to_parquet(other, index=False)
    with pytest.raises(
        emix.InvalidInputError, match=rf"p1\.parquet: its columns differ from those of .*p0\.parquet: {how}"
    ):
        file_source([first, other])


def test_a_column_asked_for_and_missing_from_a_later_file_names_it(tmp_path):
    first = write(tmp_path / "p0.parquet", parts(1)[0][0])
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_parquet(tmp_path / "p1.parquet", index=False)
    with pytest.raises(emix.InvalidInputError, match=r"p1\.parquet: column 'c' not found; columns are: a, b"):
        file_source([first, tmp_path / "p1.parquet"], columns=["a", "c"])


def test_npy_files_of_another_width_or_dtype_and_mixed_kinds_are_refused(tmp_path):
    X = parts(1)[0][0]
    a = write(tmp_path / "a.npy", X)
    np.save(tmp_path / "b.npy", X[:, :2])
    np.save(tmp_path / "c.npy", X.astype(np.float32))
    with pytest.raises(emix.InvalidInputError, match=r"b\.npy: .*column 'x2' is missing"):
        file_source([a, tmp_path / "b.npy"])
    with pytest.raises(
        emix.InvalidInputError, match=r"c\.npy: .*column 'x0' is float32 here but float64 there"
    ):
        file_source([a, tmp_path / "c.npy"])
    write(tmp_path / "d.csv", X)
    with pytest.raises(emix.InvalidInputError, match=r"the files are of several kinds \(\.csv, \.npy\)"):
        file_source(tmp_path)
    with pytest.raises(
        emix.InvalidInputError, match=r"a\.npy: .*opened with columns \['x0'\] and weights None"
    ):
        MultiFileSource([file_source(a), file_source(a, columns=["x0"])])
    with pytest.raises(emix.InvalidInputError, match=r"a CSVSource among NpySource files"):
        MultiFileSource([file_source(a), file_source(tmp_path / "d.csv", columns=["a", "b", "c"])])


def test_no_files_found_is_said(tmp_path):
    with pytest.raises(emix.InvalidInputError, match=r"no file matches this pattern"):
        file_source(str(tmp_path / "*.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(emix.InvalidInputError, match=r"empty: the folder holds no data files"):
        file_source(tmp_path / "empty")
    with pytest.raises(emix.InvalidInputError, match=r"the list of paths is empty"):
        file_source([])
    with pytest.raises(emix.InvalidInputError, match=r"nothing\.csv: no such file"):
        file_source(tmp_path / "nothing.csv")


def test_a_file_of_many_that_changes_is_named(tmp_path):
    blocks = parts()
    paths = [write(tmp_path / f"p{i}.parquet", X) for i, (X, _) in enumerate(blocks)]
    src = file_source(tmp_path)
    model = fit(src, start(blocks[0][0]))
    write(paths[1], blocks[1][0][:-5])
    with pytest.raises(emix.DataChangedError, match=r"p1\.parquet: the file changed .*shrank"):
        model.fit(src)


def test_sizes_of_csv_parts_come_from_one_scan_and_parquet_from_metadata(tmp_path):
    blocks = parts()
    csvs = file_source([write(tmp_path / f"p{i}.csv", X) for i, (X, _) in enumerate(blocks)])
    assert csvs.n_samples == sum(len(X) for X, _ in blocks)
    assert csvs.locate(700) == (1, 0) and csvs.locate(699) == (0, 699)
    pqs = file_source([write(tmp_path / f"p{i}.parquet", X) for i, (X, _) in enumerate(blocks)])
    assert "_summary" not in pqs.__dict__ and pqs.n_samples == csvs.n_samples
    assert "_summary" not in pqs.__dict__
    assert isinstance(pqs.sources[0], ParquetSource)
