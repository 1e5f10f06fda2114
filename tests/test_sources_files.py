"""File sources: files that change under a fit.

Real files in ``tmp_path``; every error is matched on its message (the file, the line or row).
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import emix
from emix.sources import CSVSource, ParquetSource, file_source


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


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
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
