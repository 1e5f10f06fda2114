"""The ``emix`` command as a user runs it (``python -m emix`` in a subprocess), on real files.

Every answer to a bad input is one line on stderr (``emix: error: ...``, or
``emix CMD: ...`` with exit status 2 for a bad command line), never a
traceback; rows are counted from 1, columns named.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import emix

from ._helpers import blobs

ROOT = Path(__file__).resolve().parents[2]
X, Z = blobs(120)


def emix_cli(*args, cwd=None, code=None):
    """Run ``python -m emix ARGS`` (or ``python -c CODE``) with this checkout first on the path."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    env.pop("EMIX_DEBUG", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "emix", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def one_line(res, status, *needles):
    """The run exited with ``status`` and said, in one line of stderr (warnings aside), every needle."""
    lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("emix: warning:")]
    assert res.returncode == status, res.stderr
    assert len(lines) == 1, f"not one line: {res.stderr!r}"
    assert "Traceback" not in res.stderr and "Usage:" not in res.stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    frame = pd.DataFrame(X, columns=["u", "v"])
    frame.to_csv(d / "data.csv", index=False)
    frame.to_csv(d / "pandas_index.csv")  # the index becomes a column 'Unnamed: 0'
    frame.assign(rownames=np.arange(1, len(X) + 1))[["rownames", "u", "v"]].to_csv(d / "r.csv", index=False)
    frame.assign(n=np.arange(len(X)))[["n", "u", "v"]].to_csv(d / "counter.csv", index=False)
    frame.to_csv(d / "headerless.csv", index=False, header=False)
    counts = pd.DataFrame({"u": np.abs(X[:, 0]).round(), "v": np.abs(X[:, 1]).round()})
    counts.loc[4, "v"] = -1.0
    counts.to_csv(d / "counts.csv", index=False)
    frame.assign(w=np.r_[np.ones(6), -2.0, np.ones(len(X) - 7)]).to_csv(d / "weights.csv", index=False)
    pd.DataFrame({"c": [0, 1, 2, 1e9] * 10}).to_csv(d / "codes.csv", index=False)
    np.save(d / "complex.npy", X + 1j)
    frame.assign(v=pd.array(np.where(np.arange(len(X)) % 7 == 0, None, X[:, 1]), dtype="Float64")).to_parquet(
        d / "nulls.parquet"
    )
    (d / "empty.csv").write_text("")
    (d / "ragged.csv").write_text("u,v\n1,2\n3,4,5\n")
    (d / "short_row.csv").write_text("u,v\n1,2\n3\n5,6\n")
    (d / "repeated.csv").write_text("u,u\n1,2\n3,4\n5,6\n")
    (d / "semicolon.csv").write_text("u;v\n1;2\n3;4\n5;6\n")
    (d / "thousands.csv").write_text('u,v\n1,2\n"1,234",4\n5,6\n')
    (d / "all_missing.csv").write_text("u,v\n" + "".join(f"{u:.6f},\n" for u in X[:, 0]))
    stamps = pd.date_range("2020-01-01", periods=3)
    pd.DataFrame({"u": [1.0, 2.0, 3.0], "t": stamps}).to_parquet(d / "dates.parquet")
    pd.DataFrame({"u": pd.Series([], dtype=float)}).to_parquet(d / "no_rows.parquet")
    return d


@pytest.fixture(scope="module")
def model_file(files):
    out = files / "m.emix"
    res = emix_cli("fit", files / "data.csv", "-k", 2, "-o", out)
    assert res.returncode == 0, res.stderr
    return out


# -- the command line itself ---------------------------------------------------------------------------------
def test_version():
    res = emix_cli("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"emix {emix.__version__}"


@pytest.mark.parametrize(
    "args, needles",
    [
        (["fit", "data.csv", "--k", "2", "-o", "m.emix"], ["emix fit: no such option --k; did you mean -k?"]),
        (
            ["fit", "data.csv", "-k", "2", "-o", "m.emix", "--stand"],
            ["no such option --stand; did you mean --standardize?"],
        ),
        (
            ["fit", "data.csv", "-o", "m.emix"],
            ["emix fit: missing option -k/--n-components", "emix fit --help"],
        ),
        (
            ["fit", "data.csv", "-k", "two", "-o", "m.emix"],
            ["emix fit: invalid value for '-k'", "emix fit --help"],
        ),
        (["fitt"], ["emix: no such command 'fitt'; did you mean 'fit'?"]),
        (["predict"], ["emix predict: missing argument MODEL_PATH"]),
        (
            ["fit", "data.csv", "-k", "2", "-o", "m.emix", "--covariance", "VVX"],
            ["invalid value for '--covariance'", "'VVV'"],
        ),
    ],
    ids=["--k", "prefix", "missing-k", "bad-k", "command", "missing-argument", "bad-choice"],
)
def test_bad_command_line_is_one_line_with_the_fix_and_status_2(files, args, needles):
    one_line(emix_cli(*args, cwd=files), 2, *needles)


@pytest.mark.parametrize(
    "word, standardised", [("true", True), ("yes", True), ("false", False), ("0", False)]
)
def test_standardize_takes_a_bool_value(files, tmp_path, word, standardised):
    res = emix_cli("fit", files / "data.csv", "-k", 2, "--standardize", word, "-o", tmp_path / "m.emix")
    assert res.returncode == 0, res.stderr
    _, extra = emix.load(tmp_path / "m.emix", return_extra=True)
    assert (extra["cli"]["standardize"] is not None) == standardised


def test_without_the_cli_extra_the_command_says_what_to_install():
    code = "import sys; sys.modules['typer'] = None; sys.argv = ['emix', '--help']; from emix.cli import main; main()"
    one_line(emix_cli(code=code), 1, "needs the cli extra", "pip install 'emix[cli]'")


def test_select_draws_no_picture_unless_asked(files, tmp_path):
    res = emix_cli("select", files / "data.csv", "-k", "1..2", "--models", "EII", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert os.listdir(tmp_path) == []
    res = emix_cli(
        "select", files / "data.csv", "-k", "1..2", "--models", "EII", "--plot", "bic.png", cwd=tmp_path
    )
    assert res.returncode == 0 and os.listdir(tmp_path) == ["bic.png"]


# -- data: errors in the file's terms -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, needles",
    [
        (
            ["fit", "counts.csv", "-k", 2, "--family", "poisson"],
            ["counts.csv: ", "X has value -1.0 at row 5, column 'v'", "non-negative integers"],
        ),
        (
            ["fit", "weights.csv", "-k", 2, "--weights", "w"],
            ["weights.csv: the --weights column 'w' is negative at row 7"],
        ),
        (
            ["fit", "codes.csv", "-k", 2, "--family", "categorical"],
            ["codes.csv: X has code 1000000000.0 at row 4, column 'c'", "pandas.factorize"],
        ),
        (["fit", "complex.npy", "-k", 2], ["complex.npy: column 'x0' is complex", "real part"]),
        (["fit", "data.csv", "-k", 500], ["data.csv: Expected n_samples >= n_components", "n_samples = 120"]),
        (["fit", "nowhere.csv", "-k", 2], ["nowhere.csv: no such file"]),
        (["fit", "empty.csv", "-k", 2], ["empty.csv: the file is empty"]),
        (["fit", "ragged.csv", "-k", 2], ["ragged.csv: line 3 has 3 fields", "header (line 1) has 2"]),
        (["fit", "data.csv", "-k", 2, "--columns", "u,w"], ["column 'w' not found; columns are: u, v"]),
        (
            ["fit", "short_row.csv", "-k", 2],
            ["short_row.csv: line 3 has 1 field", "data row 2", "fix or remove"],
        ),
        (["fit", "repeated.csv", "-k", 2], ["repeated.csv: column name 'u' is repeated (columns 1 and 2)"]),
        (["fit", "semicolon.csv", "-k", 2], ["semicolon.csv: the file seems separated by ';'", "sep=';'"]),
        (["fit", "thousands.csv", "-k", 2], ["row 2 holds '1,234'", "'.' as the decimal point"]),
        (
            ["fit", "all_missing.csv", "-k", 2],
            ["all_missing.csv: X column 'v' has no observed value", "drop it"],
        ),
        (["fit", "dates.parquet", "-k", 2], ["dates.parquet: column 't' holds dates or times", "convert it"]),
        (["fit", "no_rows.parquet", "-k", 2], ["no_rows.parquet: the file has no rows", "data rows"]),
    ],
    ids=[
        "support",
        "weights",
        "categorical-code",
        "complex",
        "k-above-n",
        "missing",
        "empty",
        "ragged",
        "column",
        "short-row",
        "repeated-name",
        "separator",
        "thousands",
        "all-missing-column",
        "dates",
        "no-rows-parquet",
    ],
)
def test_data_errors_name_the_file_row_from_1_and_column(files, tmp_path, args, needles):
    one_line(emix_cli(*args, "-o", tmp_path / "m.emix", cwd=files), 1, *needles)
    assert not (tmp_path / "m.emix").exists()


def test_pandas_and_arrow_nulls_are_missing_values(files, tmp_path):
    res = emix_cli("fit", files / "nulls.parquet", "-k", 2, "-o", tmp_path / "m.emix")
    assert res.returncode == 0, res.stderr
    assert emix.load(tmp_path / "m.emix").n_features_in_ == 2


@pytest.mark.parametrize(
    "name, column", [("pandas_index.csv", "Unnamed: 0"), ("r.csv", "rownames"), ("counter.csv", "n")]
)
def test_a_row_id_column_is_warned_about_and_excluded_on_request(files, tmp_path, name, column):
    res = emix_cli("fit", files / name, "-k", 2, "-o", tmp_path / "a.emix")
    assert res.returncode == 0, res.stderr
    assert f"column {column!r} looks like a row id" in res.stderr and "--exclude" in res.stderr
    res = emix_cli("fit", files / name, "-k", 2, "--exclude", column, "-o", tmp_path / "b.emix")
    assert res.returncode == 0 and "row id" not in res.stderr
    assert emix.load(tmp_path / "b.emix").n_features_in_ == 2


def test_a_headerless_csv_is_said(files, tmp_path):
    res = emix_cli("fit", files / "headerless.csv", "-k", 2, "-o", tmp_path / "a.emix")
    assert res.returncode == 0 and "add --no-header" in res.stderr
    res = emix_cli("fit", files / "headerless.csv", "-k", 2, "--no-header", "-o", tmp_path / "b.emix")
    assert res.returncode == 0 and "--no-header" not in res.stderr
    _, extra = emix.load(tmp_path / "b.emix", return_extra=True)
    assert extra["cli"]["n_samples"] == len(X)


# -- outputs and model files --------------------------------------------------------------------------------
def test_output_to_a_device_is_refused_before_fitting(files):
    line = one_line(
        emix_cli("fit", files / "data.csv", "-k", 2, "-o", "/dev/null"), 1, "/dev/null", "character device"
    )
    assert ".tmp" not in line


@pytest.mark.parametrize("flag, name", [("--plot", "p.png"), ("--animate", "a.gif")])
def test_a_picture_of_another_family_is_refused_before_fitting(files, tmp_path, flag, name):
    out = tmp_path / "m.emix"
    res = emix_cli(
        "fit", files / "data.csv", "-k", 2, "--family", "student", flag, tmp_path / name, "-o", out
    )
    one_line(res, 1, flag, "Gaussian mixtures only", "--family student", "emix trace")
    assert not out.exists() and not (tmp_path / name).exists()


def test_output_through_a_link_keeps_the_link(files, tmp_path):
    link = tmp_path / "current.emix"
    link.symlink_to(tmp_path / "v1.emix")
    res = emix_cli("fit", files / "data.csv", "-k", 2, "-o", link)
    assert res.returncode == 0, res.stderr
    assert link.is_symlink() and (tmp_path / "v1.emix").is_file()


def test_predict_output_in_a_missing_folder(files, model_file, tmp_path):
    out = tmp_path / "nope" / "labels.csv"
    one_line(emix_cli("predict", model_file, files / "data.csv", "-o", out), 1, str(out), "does not exist")


def test_crafted_model_is_one_line_naming_the_member(files, model_file, tmp_path):
    bad = tmp_path / "bad.emix"
    bad.write_bytes(model_file.read_bytes()[:-40])
    one_line(emix_cli("info", bad), 1, f"{bad}: ", "not an emix model file")


def test_predict_with_a_file_lacking_the_columns(files, model_file):
    one_line(emix_cli("predict", model_file, files / "codes.csv"), 1, "codes.csv", "u, v", "--columns")


def test_select_says_which_k_values_the_file_is_too_short_for(files, tmp_path):
    short = tmp_path / "short.csv"
    pd.DataFrame(X[:3], columns=["u", "v"]).to_csv(short, index=False)
    res = emix_cli("select", short, "-k", "1,5", "--models", "EII")
    assert res.returncode == 0, res.stderr
    assert "short.csv: 3 rows, so K=5 left out of the grid; give -k values up to 3" in res.stderr
