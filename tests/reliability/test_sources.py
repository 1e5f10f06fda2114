"""Reading tables (``read_table``, the command's reader) and file sources (``CSVSource``, ``ParquetSource``).

Rows are counted from 1 in files (the header not counted), columns by name.
"""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import emix
from emix import InputTypeError, InvalidInputError
from emix.sources import CSVSource, ParquetSource
from emix.sources.tables import read_table

from ._helpers import check_error

TEXT = {
    "good.csv": "a,b\n1,2\n3,4\n5,6\n",
    "empty.csv": "",
    "header_only.csv": "a,b\n",
    "text.csv": "a,b\n1,2\n3,TRUE\n5,6\n",
    "overflow.csv": "a,b\n1,2\n1e400,4\n5,6\n",
    "minus_inf.csv": "a,b\n1,2\n3,4\n-inf,6\n",
    "missing.csv": "a,b\n1,2\nNA,4\n5,nan\n7,\n",
    "semicolon.csv": "a;b\n1;2\n3;4\n5;6\n",
    "ragged_long.csv": "a,b\n1,2\n3,4,5\n6,7\n",
    "ragged_short.csv": "a,b\n1,2\n3\n6,7\n",
    "duplicate_names.csv": "a,a\n1,2\n3,4\n5,6\n",
    "bom.csv": "\ufeffa,b\n1,2\n3,4\n5,6\n",
    "crlf.csv": "a,b\r\n1,2\r\n3,4\r\n5,6\r\n",
    "no_final_newline.csv": "a,b\n1,2\n3,4\n5,6",
    "quoted.csv": 'a,b\n"1",2\n3,"4"\n5,6\n',
    "blank_lines.csv": "a,b\n1,2\n\n3,4\n5,6\n\n",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sources")
    for name, text in TEXT.items():
        (d / name).write_bytes(text.encode("utf-8"))
    (d / "folder").mkdir()
    stamps = [datetime.datetime(2020, 1, i) for i in (1, 2, 3)]
    tables = {
        "nulls.parquet": pa.table({"a": pa.array([1.0, None, 3.0]), "b": pa.array([1, 2, None])}),
        "dates.parquet": pa.table({"a": pa.array([1.0, 2.0, 3.0]), "t": pa.array(stamps)}),
        "flags.parquet": pa.table({"a": pa.array([1.0, 2.0, 3.0]), "f": pa.array([True, False, True])}),
        "no_rows.parquet": pa.table({"a": pa.array([], type=pa.float64())}),
        "strings.parquet": pa.table({"a": pa.array([1.0, 2.0, 3.0]), "s": pa.array(["x", "y", "z"])}),
    }
    for name, table in tables.items():
        pq.write_table(table, d / name)
    np.save(d / "complex.npy", np.ones((4, 2)) + 1j)
    np.save(d / "cube.npy", np.zeros((2, 2, 2)))
    np.save(d / "fields.npy", np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]))
    np.save(d / "objects.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    (d / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    return d


def read(path, **kw):
    return read_table(path, allow_missing=True, **kw)


def stream(path):
    source = CSVSource(path) if path.suffix == ".csv" else ParquetSource(path)
    return np.concatenate([chunk for chunk, _ in source.chunks()])


# -- read_table: a typed error naming the file, the column and row (from 1) and a fix -------------------
READ_ERRORS = [
    ("nowhere.csv", InvalidInputError, [r"nowhere\.csv: no such file"]),
    ("folder", InvalidInputError, [r"folder: is a directory, not a data file"]),
    ("empty.csv", InvalidInputError, [r"empty\.csv: the file is empty"]),
    ("header_only.csv", InvalidInputError, [r"header but no rows", r"give a file with data rows"]),
    (
        "text.csv",
        InputTypeError,
        [r"text\.csv: column 'b' is not numeric", r"row 2 holds 'TRUE'", r"--columns"],
    ),
    (
        "overflow.csv",
        InvalidInputError,
        [r"column 'a' has an infinite value in row 2", r"replace it or drop"],
    ),
    ("minus_inf.csv", InvalidInputError, [r"column 'a' has an infinite value in row 3", r"drop the row"]),
    ("strings.parquet", InputTypeError, [r"column 's' is not numeric", r"row 1 holds 'x'", r"--columns"]),
    ("dates.parquet", InputTypeError, [r"column 't' holds dates or times", r"convert it to a number"]),
    ("complex.npy", InputTypeError, [r"column 'x0' is complex", r"real part"]),
    ("cube.npy", InvalidInputError, [r"expected a 2-D array, got shape \(2, 2, 2\)"]),
    ("fields.npy", InvalidInputError, [r"a structured array \(fields a, b\)", r"save a plain 2-D array"]),
    ("objects.npy", InvalidInputError, [r"cannot be read as NPY", r"allow_pickle=False"]),
    ("corrupt.npy", InvalidInputError, [r"corrupt\.npy: cannot be read as NPY"]),
    (
        "ragged_long.csv",
        InvalidInputError,
        [r"line 3 has 3 fields", r"header \(line 1\) has 2"],
    ),
]


@pytest.mark.parametrize("name, kind, patterns", READ_ERRORS, ids=[c[0] for c in READ_ERRORS])
def test_read_table_refuses_with_file_column_row_and_fix(files, name, kind, patterns):
    check_error(lambda: read(files / name), kind, patterns)


def test_read_table_names_a_missing_column_and_lists_the_others(files):
    check_error(
        lambda: read_table(files / "good.csv", ["a", "c"]),
        InvalidInputError,
        [r"column 'c' not found", r"columns are: a, b"],
    )


# -- file sources: the same refusals, the rows of the whole file --------------------------------------------
STREAM_ERRORS = [
    ("nowhere.csv", InvalidInputError, [r"nowhere\.csv: no such file"]),
    ("empty.csv", InvalidInputError, [r"empty\.csv: the file is empty"]),
    ("text.csv", InputTypeError, [r"text\.csv: column 'b' is not numeric", r"row 2 holds 'TRUE'"]),
    ("overflow.csv", InvalidInputError, [r"column 'a' has an infinite value in row 2"]),
    ("strings.parquet", InputTypeError, [r"column 's' is not numeric", r"row 1 holds 'x'"]),
]


@pytest.mark.parametrize("name, kind, patterns", STREAM_ERRORS, ids=[c[0] for c in STREAM_ERRORS])
def test_file_sources_refuse_with_file_column_and_row(files, name, kind, patterns):
    check_error(lambda: stream(files / name), kind, patterns)


# -- valid files, read right ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["bom.csv", "crlf.csv", "no_final_newline.csv", "quoted.csv", "blank_lines.csv"]
)
def test_harmless_variants_read_as_the_plain_file(files, name):
    plain = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    table = read(files / name)
    assert table.columns == ("a", "b") and table.X.tolist() == plain
    assert stream(files / name).tolist() == plain


@pytest.mark.parametrize("name", ["missing.csv", "nulls.parquet"])
def test_empty_cells_na_and_nulls_are_missing_values(files, name):
    a, b = read(files / name).X, stream(files / name)
    assert np.isnan(a).sum() == np.isnan(b).sum() == (3 if name == "missing.csv" else 2)
    assert np.array_equal(a, b, equal_nan=True)


def test_missing_values_refused_where_not_allowed(files):
    check_error(
        lambda: read_table(files / "missing.csv"),
        InvalidInputError,
        [r"column 'a' has a missing value in row 2", r"remove or fill missing values"],
    )


def test_a_stream_fits_the_model_of_the_loaded_table(files, tmp_path):
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 1, (150, 2)), rng.normal(5, 1, (150, 2))]
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "\n".join(f"{u:.17g},{v:.17g}" for u, v in X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = emix.GaussianMixture(2, random_state=0).fit(read(path).X)
        b = emix.GaussianMixture(2, random_state=0).fit(CSVSource(path, chunk_rows=64))
    assert np.allclose(a.means_, b.means_, rtol=1e-10)


# -- rows with the wrong number of fields, repeated names, another separator ------------------------------
@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_a_row_with_too_few_fields_is_refused(files, reader):
    check_error(
        lambda: reader(files / "ragged_short.csv"),
        InvalidInputError,
        [r"line 3 has 1 field where the header \(line 1\) has 2", r"data row 2", r"fix or remove line 3"],
    )


def test_csv_source_refuses_a_row_with_too_many_fields(files):
    check_error(
        lambda: stream(files / "ragged_long.csv"), InvalidInputError, [r"data row 2", r"3 fields", r"fix"]
    )


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_a_repeated_column_name_is_refused(files, reader):
    check_error(
        lambda: reader(files / "duplicate_names.csv"),
        InvalidInputError,
        [r"column name 'a' is repeated \(columns 1 and 2\)", r"give every column a name of its own"],
    )


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_another_separator_is_named(files, reader):
    check_error(
        lambda: reader(files / "semicolon.csv"),
        InputTypeError,
        [r"semicolon\.csv: the file seems separated by ';', not ','", r"'a;b' is one column", r"sep=';'"],
    )


# -- Parquet: booleans, dates, no rows --------------------------------------------------------------------
@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "ParquetSource"])
def test_boolean_columns_are_zero_and_one_as_in_numpy(files, reader):
    """Booleans are read as 0/1 by every reader, as the estimators read a NumPy bool array."""
    got = reader(files / "flags.parquet")
    X = got if reader is stream else got.X
    assert X.tolist() == [[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]]


def test_parquet_source_refuses_dates(files):
    check_error(
        lambda: ParquetSource(files / "dates.parquet"),
        InputTypeError,
        [r"column 't' holds dates or times \(timestamp\[us\]\)", r"convert it to a number"],
    )


def test_parquet_source_says_the_file_has_no_rows(files):
    check_error(
        lambda: stream(files / "no_rows.parquet"),
        InvalidInputError,
        [r"no_rows\.parquet: the file has columns \(a\) but no rows", r"give a file with data rows"],
    )


@pytest.mark.parametrize(
    "name, fix",
    [("text.csv", r"columns= \(--columns on the command line\)"), ("overflow.csv", r"replace it or drop")],
)
def test_file_source_errors_say_a_fix(files, name, fix):
    with pytest.raises(emix.EmixError, match=fix):
        stream(files / name)
