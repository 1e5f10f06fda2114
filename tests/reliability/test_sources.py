"""Reading tables (``read_table``, the command's reader) and file sources (``CSVSource``, ``ParquetSource``).

Rows are counted from 1 in files (the header not counted), columns by name.
"""

from __future__ import annotations

import datetime
import gzip
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import emix
from emix import InputTypeError, InvalidInputError
from emix.sources import CSVSource, NpySource, ParquetSource
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


def stream(path, columns=None):
    """Every chunk of the file's source (``CSVSource``, ``ParquetSource`` or ``NpySource`` by suffix)."""
    source = emix.sources.file_source(path, columns)
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


# -- around them: the classes of files a user meets -------------------------------------------------------
MORE_TEXT = {
    "quoted_separator.csv": 'name,a,b\n"Smith, J",1,2\n"Doe, A",3,4\n"Roe, ""R""",5,6\n',
    "thousands.csv": 'a,b\n1,2\n"1,234",4\n5,6\n',
    "decimal_comma.csv": "a;b\n1,5;2\n3;4,25\n",
    "tabs.csv": "a\tb\n1\t2\n3\t4\n",
    "commas.tsv": "a,b\n1,2\n3,4\n",
    "na_spellings.csv": "a,b\n1,NA\nnan,2\n,3\nNULL,4\nNaN,\n6,7\n",
    "all_missing.csv": "a,b\n1,\n2,NA\n3,\n",
    "trailing_separator.csv": "a,b,\n1,2,\n3,4,\n5,6,\n",
    "flags.csv": "a,f\n1,True\n2,False\n3,\n",
    "bom_crlf_quoted.csv": '\ufeff"a","b"\r\n"1",2\r\n3,"4"\r\n5,6\r\n\r\n',
}


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    d = tmp_path_factory.mktemp("more")
    for name, text in MORE_TEXT.items():
        (d / name).write_bytes(text.encode("utf-8"))
    plain = TEXT["good.csv"]
    (d / "packed.csv.gz").write_bytes(gzip.compress(plain.encode()))
    (d / "packed.tsv.gz").write_bytes(gzip.compress(plain.replace(",", "\t").encode()))
    tables = {
        "lists.parquet": pa.table({"a": pa.array([1.0, 2.0, 3.0]), "v": pa.array([[1.0], [2.0, 3.0], []])}),
        "records.parquet": pa.table(
            {"a": pa.array([1.0, 2.0, 3.0]), "r": pa.array([{"x": 1.0}, {"x": 2.0}, {"x": 3.0}])}
        ),
        "durations.parquet": pa.table(
            {"a": pa.array([1.0, 2.0, 3.0]), "d": pa.array([1, 2, 3], type=pa.duration("s"))}
        ),
        "codes.parquet": pa.table(
            {"a": pa.array([1.0, 2.0, 3.0]), "c": pa.array([4, 5, 4]).dictionary_encode()}
        ),
        "repeated.parquet": pa.Table.from_arrays(
            [pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["a", "a"]
        ),
    }
    for name, table in tables.items():
        pq.write_table(table, d / name)
    X = np.arange(12.0).reshape(6, 2)
    np.save(d / "c_order.npy", X)
    np.save(d / "fortran.npy", np.asfortranarray(X))
    mapped = np.lib.format.open_memmap(d / "mapped.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mapped[:] = X
    mapped.flush()
    del mapped
    np.save(d / "no_rows.npy", np.zeros((0, 2)))
    return d


def test_quoted_fields_may_hold_the_separator_and_quotes(more):
    """A text column with quoted commas is left out with ``columns=``; the numbers are read right."""
    path = more / "quoted_separator.csv"
    expected = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert read(path, columns=["a", "b"]).X.tolist() == expected
    chunks = CSVSource(path, ["a", "b"], chunk_rows=2).chunks()
    assert np.concatenate([X for X, _ in chunks]).tolist() == expected


def test_bom_crlf_quoted_header_and_trailing_empty_line_read_as_the_plain_file(more):
    table = read(more / "bom_crlf_quoted.csv")
    assert table.columns == ("a", "b") and table.X.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert stream(more / "bom_crlf_quoted.csv").tolist() == table.X.tolist()


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_a_thousands_separator_or_decimal_comma_is_named(more, reader):
    check_error(
        lambda: reader(more / "thousands.csv"),
        InputTypeError,
        [r"column 'a' is not numeric \(row 2 holds '1,234'\)", r"'\.' as the decimal point", r"decimal=','"],
    )


@pytest.mark.parametrize(
    "name, patterns",
    [
        ("decimal_comma.csv", [r"seems separated by ';', not ','", r"sep=';'"]),
        ("tabs.csv", [r"seems separated by tabs \('\\t'\), not ','", r"rename it \.tsv"]),
        ("commas.tsv", [r"seems separated by ',', not tabs", r"rename it \.csv"]),
    ],
)
@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_a_file_in_another_separator_says_which(more, reader, name, patterns):
    check_error(lambda: reader(more / name), InputTypeError, patterns)


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_na_nan_null_and_empty_cells_are_missing_values(more, reader):
    X = reader(more / "na_spellings.csv")
    X = X if isinstance(X, np.ndarray) else X.X
    assert np.isnan(X).tolist() == [[False, True], [True, False], [True, False], [True, False]] + [
        [True, True],
        [False, False],
    ]


def test_a_column_with_no_observed_value_is_refused_by_estimator_and_source(more):
    """The issue: an all-NaN column got a mean of 0 and impute filled 0; now nothing is fitted."""
    path = more / "all_missing.csv"
    check_error(
        lambda: emix.GaussianMixture(1).fit(CSVSource(path)),
        InvalidInputError,
        [r"all_missing\.csv: X column 'b' has no observed value", r"cannot be estimated: drop it"],
    )
    check_error(
        lambda: emix.GaussianMixture(1).fit(read(path).X),
        InvalidInputError,
        [r"X column 1 has no observed value", r"drop it"],
    )


def test_a_trailing_separator_gives_an_empty_column_that_is_named_not_fitted(more):
    path = more / "trailing_separator.csv"
    assert read(path).columns == ("a", "b", "Unnamed: 2")
    check_error(
        lambda: emix.GaussianMixture(1).fit(CSVSource(path)),
        InvalidInputError,
        [r"column 'Unnamed: 2' has no observed value", r"drop it"],
    )
    assert emix.GaussianMixture(1).fit(CSVSource(path, ["a", "b"])).means_.shape == (1, 2)


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "CSVSource"])
def test_a_true_false_csv_column_is_zero_and_one(more, reader):
    X = reader(more / "flags.csv")
    X = X if isinstance(X, np.ndarray) else X.X
    assert np.array_equal(X, [[1.0, 1.0], [2.0, 0.0], [3.0, np.nan]], equal_nan=True)


@pytest.mark.parametrize("name", ["packed.csv.gz", "packed.tsv.gz"])
def test_gzip_compressed_csv_and_tsv_read_as_the_plain_file(more, name):
    plain = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert read(more / name).X.tolist() == plain
    source = emix.sources.file_source(more / name)
    assert np.concatenate([X for X, _ in source.chunks()]).tolist() == plain


@pytest.mark.parametrize(
    "name, patterns",
    [
        ("lists.parquet", [r"column 'v' holds lists or records", r"spread them over columns", r"--columns"]),
        ("records.parquet", [r"column 'r' holds lists or records", r"leave the column out"]),
        ("durations.parquet", [r"column 'd' holds dates or times", r"convert it to a number"]),
        ("repeated.parquet", [r"column name 'a' is repeated \(columns 1 and 2\)", r"a name of its own"]),
    ],
)
@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "ParquetSource"])
def test_parquet_columns_that_are_not_numbers_are_refused(more, reader, name, patterns):
    check_error(lambda: reader(more / name), (InputTypeError, InvalidInputError), patterns)


def test_a_parquet_column_left_out_is_not_looked_at(more):
    assert stream(more / "lists.parquet", ["a"]).tolist() == [[1.0], [2.0], [3.0]]
    assert read(more / "lists.parquet", columns=["a"]).X.tolist() == [[1.0], [2.0], [3.0]]


@pytest.mark.parametrize("reader", [read, stream], ids=["read_table", "ParquetSource"])
def test_dictionary_encoded_numbers_are_their_values(more, reader):
    X = reader(more / "codes.parquet")
    X = X if isinstance(X, np.ndarray) else X.X
    assert X.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 4.0]]


def test_a_csv_header_without_rows_is_said_by_the_source(files):
    check_error(
        lambda: stream(files / "header_only.csv"), InvalidInputError, [r"header but no rows", r"data rows"]
    )


def test_an_empty_npy_says_it_has_no_rows(more):
    check_error(
        lambda: list(NpySource(more / "no_rows.npy").chunks()),
        InvalidInputError,
        [r"no_rows\.npy: the array has no rows \(shape \(0, 2\)\)", r"give a file with data rows"],
    )
    check_error(lambda: read(more / "no_rows.npy"), InvalidInputError, [r"the file has no rows"])


def test_an_object_npy_is_refused_by_the_source(files):
    check_error(
        lambda: NpySource(files / "objects.npy"),
        InputTypeError,
        [r"objects\.npy: the array holds Python objects", r"X\.astype\(float\)"],
    )


@pytest.mark.parametrize("name", ["fortran.npy", "mapped.npy"])
def test_fortran_ordered_and_memory_mapped_npy_read_as_the_c_ordered_file(more, name):
    expected = np.load(more / "c_order.npy")
    assert np.array_equal(read(more / name).X, expected)
    source = NpySource(more / name, chunk_rows=4)
    assert np.array_equal(np.concatenate([X for X, _ in source.chunks()]), expected)


def test_a_folder_of_parts_with_mixed_schemas_names_the_file_and_the_column(tmp_path):
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "c": [3.0, 4.0]}), tmp_path / "part-1.parquet")
    check_error(
        lambda: emix.sources.file_source(tmp_path),
        InvalidInputError,
        [r"part-1\.parquet: its columns differ from those of .*part-0\.parquet", r"column 'b' is missing"],
    )


def test_an_empty_part_among_others_is_no_rows_but_all_empty_is_refused(tmp_path):
    pq.write_table(pa.table({"a": [1.0, 2.0]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"a": pa.array([], type=pa.float64())}), tmp_path / "part-1.parquet")
    source = emix.sources.file_source(tmp_path)
    assert np.concatenate([X for X, _ in source.chunks()]).tolist() == [[1.0], [2.0]]
    (tmp_path / "part-0.parquet").unlink()
    pq.write_table(pa.table({"a": pa.array([], type=pa.float64())}), tmp_path / "part-2.parquet")
    check_error(
        lambda: list(emix.sources.file_source(tmp_path).chunks()),
        InvalidInputError,
        [r"the files have no rows", r"give files with data rows"],
    )


def _append_csv(path):
    with open(path, "a") as fh:
        fh.write("7,8\n")


def _rewrite_parquet(path):
    pq.write_table(pa.table({"a": [1.0, 3.0, 5.0, 7.0], "b": [2.0, 4.0, 6.0, 8.0]}), path)


def _rewrite_npy(path):
    np.save(path, np.arange(8.0).reshape(4, 2))


@pytest.mark.parametrize(
    "suffix, change", [(".csv", _append_csv), (".parquet", _rewrite_parquet), (".npy", _rewrite_npy)]
)
def test_a_file_changed_between_passes_is_data_changed_error(tmp_path, suffix, change):
    path = tmp_path / f"growing{suffix}"
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    if suffix == ".csv":
        path.write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in X))
    elif suffix == ".parquet":
        pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1]}), path)
    else:
        np.save(path, X)
    source = emix.sources.file_source(path)
    assert np.concatenate([c for c, _ in source.chunks()]).tolist() == X.tolist()
    change(path)
    check_error(
        lambda: list(source.chunks()),
        emix.DataChangedError,
        [rf"growing\{suffix}: the file changed after the source opened it", r"make a new source"],
    )
