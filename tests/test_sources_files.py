"""File sources: files that change under a fit, CSV rows with a field too many or too few, ``.npy`` files.

Real files in ``tmp_path``; every error is matched on its message (the file, the line or row).
"""

import gzip
import mmap
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import emix
from emix.sources import CSVSource, NpySource, ParquetSource, file_source
from emix.sources import csvfields as cf
from emix.sources.tables import read_table


def data(n=400, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((n, 1)) < 0.5, rng.normal(0, 1, (n, d)), rng.normal(4, 1, (n, d)))
    return X


def write(path, X):
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, X)
    else:
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, float_format="%.17g")
    return path


def quiet_fit(model, source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(source)


def gm():
    return emix.GaussianMixture(2, random_state=0, n_jobs=1, max_iter=5, tol=0)


# -- files that change under a fit ----------------------------------------------------------------


def test_data_changed_error_is_public_and_a_runtime_error():
    assert issubclass(emix.DataChangedError, emix.EmixError)
    assert issubclass(emix.DataChangedError, RuntimeError)
    assert "DataChangedError" in emix.__all__


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy"])
def test_a_row_appended_after_opening_is_seen_on_the_next_fit(tmp_path, suffix):
    X = data()
    path = write(tmp_path / f"grows{suffix}", X)
    src = file_source(path, rows=100)
    quiet_fit(gm(), src)
    write(path, np.vstack([X, X[:1]]))  # one row more, as a writer appending would leave it
    with pytest.raises(emix.DataChangedError, match=rf"grows\{suffix}: the file changed .*size grew"):
        gm().fit(src)


class _AppendsAfterTwoPasses(CSVSource):
    """A CSV source whose file gets a row appended by another writer after two passes."""

    passes = 0

    def chunks(self):
        self.passes += 1
        if self.passes == 3:
            with open(self.path, "a") as fh:
                fh.write("1.5,2.5\n")
        return super().chunks()


def test_a_row_appended_between_two_passes_of_one_fit(tmp_path):
    path = write(tmp_path / "live.csv", data())
    src = _AppendsAfterTwoPasses(path, chunk_rows=64)
    with pytest.raises(emix.DataChangedError, match=r"live\.csv: .*grew .*between two passes of a fit"):
        gm().fit(src)
    assert src.passes == 3


def test_a_truncated_file_is_seen(tmp_path):
    path = write(tmp_path / "cut.csv", data())
    src = CSVSource(path, chunk_rows=50)
    quiet_fit(gm(), src)
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(text[:-10]))
    with pytest.raises(emix.DataChangedError, match=r"cut\.csv: .*its size shrank"):
        gm().fit(src)


def test_a_file_truncated_during_a_pass_gives_data_changed_not_a_parser_error(tmp_path):
    path = write(tmp_path / "mid.csv", data(n=2000))
    src = CSVSource(path, chunk_rows=100)
    chunks = src.chunks()
    next(chunks)
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) // 2)
    with pytest.raises(emix.DataChangedError, match=r"mid\.csv: .*shrank"):
        for _ in chunks:
            pass


def _same_size_rewrite(path, old_text):
    """Replace a digit of the first row: same size; then put the modification time back."""
    st = os.stat(path)
    first, rest = old_text.split("\n", 1)
    row, tail = rest.split("\n", 1)
    digit = next(i for i, c in enumerate(row) if c.isdigit() and c != "9")
    row = row[:digit] + str(int(row[digit]) + 1) + row[digit + 1 :]
    path.write_text(f"{first}\n{row}\n{tail}")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(path) == st.st_size


def test_a_rewrite_of_the_same_size_is_seen(tmp_path):
    path = write(tmp_path / "same.csv", data())
    src = CSVSource(path)
    src.first_chunk()
    _same_size_rewrite(path, path.read_text())
    with pytest.raises(emix.DataChangedError, match=r"same\.csv: .*first or last 4096 bytes changed"):
        list(src.chunks())


def test_a_new_modification_time_is_seen(tmp_path):
    path = write(tmp_path / "touched.parquet", data())
    src = ParquetSource(path)
    st = os.stat(path)
    path.write_bytes(path.read_bytes())  # rewritten with the same bytes
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    with pytest.raises(emix.DataChangedError, match=r"touched\.parquet: .*modification time moved by \+2 s"):
        gm().fit(src)


def test_a_parquet_rewrite_of_the_same_size_changes_the_footer(tmp_path):
    path = tmp_path / "foot.parquet"
    X = data()
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1]}), path, compression=None)
    src = ParquetSource(path)
    st = os.stat(path)
    pq.write_table(pa.table({"a": X[:, 0] + 1.0, "b": X[:, 1]}), path, compression=None)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(path) == st.st_size
    with pytest.raises(emix.DataChangedError, match=r"foot\.parquet: .*its footer \(the Parquet metadata\)"):
        list(src.chunks())


def test_a_removed_file_is_named(tmp_path):
    path = write(tmp_path / "gone.parquet", data())
    src = ParquetSource(path)
    path.unlink()
    with pytest.raises(emix.DataChangedError, match=r"gone\.parquet: .*removed or renamed"):
        src.first_chunk()


# -- CSV: one field per column ----------------------------------------------------------------------


def _csv_with(tmp_path, name, line_no, bad_line, n=3000):
    """A CSV of ``n`` rows and 3 columns whose line ``line_no`` (header = line 1) is ``bad_line``."""
    lines = ["a,b,c"] + [f"{i},{i % 7}.5,{i % 3}" for i in range(n)]
    lines[line_no - 1] = bad_line
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "bad, n_fields, line_no",
    [("1,2,3,4", 4, 2), ("1,2,3,4", 4, 2741), ("1,2", 2, 2), ("1,2", 2, 1999), ("1,2,3,", 4, 3001)],
)
def test_csv_source_refuses_a_row_with_a_field_too_many_or_too_few(tmp_path, bad, n_fields, line_no):
    path = _csv_with(tmp_path, "ragged.csv", line_no, bad)
    expected = rf"ragged\.csv: line {line_no} has {n_fields} fields where the header \(line 1\) has 3"
    with pytest.raises(emix.InvalidInputError, match=expected):
        emix.GaussianMixture(2, n_jobs=1).fit(CSVSource(path, chunk_rows=256))
    with pytest.raises(emix.InvalidInputError, match=expected):
        read_table(path)


def test_an_extra_field_in_the_first_row_was_read_as_wrong_values_and_now_is_an_error(tmp_path):
    path = tmp_path / "shifted.csv"
    path.write_text("a,b\n1,2,3\n4,5\n")
    with pytest.raises(
        emix.InvalidInputError, match=r"shifted\.csv: line 2 has 3 fields .* fix or remove line 2"
    ):
        read_table(path)
    with pytest.raises(emix.InvalidInputError, match=r"shifted\.csv: line 2 has 3 fields"):
        CSVSource(path).first_chunk()


def test_a_csv_without_header_is_held_to_its_first_row(tmp_path):
    path = tmp_path / "plain.tsv"
    path.write_text("1\t2\t3\n4\t5\t6\n7\t8\n")
    expected = r"plain\.tsv: line 3 has 2 fields where the first row \(line 1\) has 3"
    with pytest.raises(emix.InvalidInputError, match=expected):
        list(CSVSource(path, header=False).chunks())
    with pytest.raises(emix.InvalidInputError, match=expected):
        read_table(path, header=False)


def test_a_gzipped_csv_is_checked(tmp_path):
    path = tmp_path / "packed.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("a,b\n1,2\n3,4\n5\n")
    with pytest.raises(emix.InvalidInputError, match=r"packed\.csv\.gz: line 4 has 1 field where"):
        list(CSVSource(path).chunks())


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_quotes_blank_lines_and_line_ends_are_read_as_pandas_reads_them(tmp_path, newline):
    rows = ['"Smith, J",1,2', "", '"two', 'lines",3,4', "   ", "x,5,6"]
    path = tmp_path / "names.csv"
    path.write_bytes(newline.join(["id,a,b", *rows]).encode() + newline.encode())
    src = CSVSource(path, columns=["a", "b"])
    np.testing.assert_array_equal(np.vstack([X for X, _ in src.chunks()]), [[1, 2], [3, 4], [5, 6]])
    path.write_bytes(newline.join(["id,a,b", *rows, "y,7"]).encode())
    with pytest.raises(emix.InvalidInputError, match=r"line 8 has 2 fields"):
        read_table(path, columns=["a", "b"])


def test_the_field_check_runs_on_the_first_whole_pass_only(tmp_path, monkeypatch):
    path = _csv_with(tmp_path, "once.csv", 2, "0,0.5,0")
    made = []

    class Counting(cf.FieldCheck):
        def __init__(self, *args):
            made.append(1)
            super().__init__(*args)

    monkeypatch.setattr("emix.sources.files.FieldCheck", Counting)
    src = CSVSource(path, chunk_rows=500)
    src.first_chunk()  # a partial pass: checked, but not the whole file
    for _ in range(3):
        list(src.chunks())
    assert len(made) == 2


def _reference_first_bad_line(text):
    """The first line whose record has a number of fields other than the first record's (csv module)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    expected, previous = None, 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if expected is None:
            expected = len(row)
        elif len(row) != expected:
            return start
    return None


_LINES = st.sampled_from(["1,2,3", "1,2,3", "1,2", "1,2,3,4", "", "  ", '"a, b",2,3', '"a\nb",2,3', "1,,"])


@given(
    lines=st.lists(_LINES, max_size=12),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    block=st.sampled_from([1, 5, 16, 1 << 20]),
    end=st.booleans(),
)
def test_field_check_agrees_with_the_csv_module(lines, newline, block, end):
    lines = [line.replace("\n", newline) for line in lines]  # a line end inside a quoted field
    text = newline.join(["a,b,c", *lines]) + (newline if end else "")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.csv"
        path.write_bytes(text.encode())
        old, cf.BLOCK_BYTES = cf.BLOCK_BYTES, block
        try:
            cf.check_fields(path, ",", True)
            found = None
        except emix.InvalidInputError as exc:
            found = int(str(exc).split(": line ")[1].split()[0])
        finally:
            cf.BLOCK_BYTES = old
    assert found == _reference_first_bad_line(text)


# -- .npy files -----------------------------------------------------------------------------------


def test_npy_fit_equals_memory_and_chunks_are_views_of_the_mapping(tmp_path):
    X = data(n=1000, d=3)
    path = write(tmp_path / "x.npy", X)
    src = file_source(path, rows=128)
    assert isinstance(src, NpySource) and isinstance(src, emix.NpySource)
    assert (src.n_samples, src.n_features, src.dtype, src.columns) == (
        1000,
        3,
        np.float64,
        ("x0", "x1", "x2"),
    )
    chunk, _ = next(src.chunks())
    base = chunk
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert isinstance(base, mmap.mmap) and not chunk.flags.owndata
    ref, got = quiet_fit(gm(), X), quiet_fit(gm(), src)
    np.testing.assert_allclose(got.means_, ref.means_, rtol=1e-12)
    assert got.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=1e-12)


def test_npy_float32_1d_integers_columns_and_weights(tmp_path):
    X32 = data().astype(np.float32)
    assert NpySource(write(tmp_path / "f.npy", X32)).dtype == np.float32
    one = NpySource(write(tmp_path / "one.npy", np.arange(5.0)))
    assert one.shape == (5, 1) and next(one.chunks())[0].shape == (5, 1)
    ints = NpySource(write(tmp_path / "i.npy", np.arange(12).reshape(4, 3)), ["x2", "x0"], weights="x1")
    X, w = next(ints.chunks())
    np.testing.assert_array_equal(X, [[2, 0], [5, 3], [8, 6], [11, 9]])
    np.testing.assert_array_equal(w, [1, 4, 7, 10])
    assert X.dtype == np.float64 and ints.total_weight == 22


@pytest.mark.parametrize(
    "array, error, message",
    [
        (np.ones((3, 2), dtype=complex), emix.InputTypeError, r"c\.npy: the array is complex"),
        (np.array([[1, "a"]], dtype=object), emix.InputTypeError, r"c\.npy: the array holds Python objects"),
        (np.array([["a", "b"]]), emix.InputTypeError, r"c\.npy: the array has dtype <U1, not numbers"),
        (
            np.zeros((2, 2, 2)),
            emix.InvalidInputError,
            r"c\.npy: the array has shape \(2, 2, 2\); expected 2-D",
        ),
    ],
)
def test_npy_refuses_what_is_not_a_table_of_real_numbers(tmp_path, array, error, message):
    path = tmp_path / "c.npy"
    np.save(path, array, allow_pickle=True)
    with pytest.raises(error, match=message):
        file_source(path)


def test_npy_that_is_not_npy_and_infinite_values_are_named(tmp_path):
    (tmp_path / "fake.npy").write_text("a,b\n1,2\n")
    with pytest.raises(emix.InvalidInputError, match=r"fake\.npy: not a \.npy file"):
        NpySource(tmp_path / "fake.npy")
    X = data(n=3000)
    X[2345, 1] = np.inf
    src = NpySource(write(tmp_path / "inf.npy", X), chunk_rows=500)
    with pytest.raises(
        emix.InvalidInputError, match=r"inf\.npy: column 'x1' has an infinite value in row 2346"
    ):
        gm().fit(src)


def test_parquet_reads_one_row_group_at_a_time(tmp_path):
    """pyarrow's iter_batches over a whole file reads every row group ahead (memory grows with the
    file); the source reads one row group at a time, so Arrow holds about one row group."""
    import pyarrow as pa

    X = np.random.default_rng(0).normal(size=(200_000, 3))
    path = tmp_path / "groups.parquet"
    pd.DataFrame(X, columns=["a", "b", "c"]).to_parquet(path, row_group_size=20_000)
    src = emix.ParquetSource(path, batch_rows=5_000)
    most, rows = 0, 0
    for chunk, _ in src.chunks():
        most = max(most, pa.total_allocated_bytes())
        rows += chunk.shape[0]
    assert rows == 200_000
    assert most < X.nbytes / 2, most  # the whole file would be read ahead before the fix
