"""Every subcommand of ``emix``, driven through the real Typer app and, for the
entry point itself, through ``python -m emix`` in a subprocess, on real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emix
from emix.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result


def stderr(result):
    try:
        return result.stderr
    except ValueError:  # older click mixes the streams
        return result.output


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    X = emix.datasets.load_faithful()
    df = pd.DataFrame(X, columns=["eruptions", "waiting"])
    df.insert(0, "id", [f"r{i}" for i in range(len(df))])
    df["site"] = "yellowstone"
    df.to_csv(d / "faithful.csv", index=False)
    df.to_parquet(d / "faithful.parquet", index=False)
    df[["eruptions", "waiting"]].to_csv(d / "faithful.tsv", sep="\t", index=False)
    np.save(d / "faithful.npy", X)
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("a,b\n")
    (d / "text.csv").write_text("a,b\n1.0,2.0\n3.0,oops\n5.0,6.0\n")
    (d / "three.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (d / "garbage.emix").write_bytes(b"this is not a model")
    return d


@pytest.fixture(scope="module")
def model_file(runner, data_dir):
    out = data_dir / "m.emix"
    res = run(
        runner,
        "fit",
        data_dir / "faithful.csv",
        "-k",
        3,
        "--columns",
        "eruptions,waiting",
        "--covariance",
        "tied",
        "--standardize",
        "--tol",
        "1e-9",
        "--max-iter",
        "1000",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    return out


def test_fit_csv_with_header_prints_summary_and_writes_model(runner, data_dir, model_file):
    res = run(
        runner,
        "fit",
        data_dir / "faithful.csv",
        "-k",
        3,
        "-c",
        "eruptions,waiting",
        "--covariance",
        "tied",
        "--tol",
        "1e-10",
        "--max-iter",
        "1000",
        "-o",
        data_dir / "raw.emix",
    )
    assert res.exit_code == 0, res.output
    for word in ("weight", "mean eruptions", "log-likelihood", "BIC", "AIC", "iterations", "converged"):
        assert word in res.output
    assert "-1126.3159" in res.output  # mclust's optimum for EEE, K=3
    model = emix.load(data_dir / "raw.emix")
    assert model.n_components == 3 and model.covariance_type == "tied"
    _, extra = emix.load(model_file, return_extra=True)
    assert extra["cli"]["columns"] == ["eruptions", "waiting"]
    assert len(extra["cli"]["standardize"]["scale"]) == 2


def test_standardized_model_is_stored_in_data_units(runner, data_dir, model_file):
    model, extra = emix.load(model_file, return_extra=True)
    # the model lives in standardised units: means near 0, scale stored
    assert np.abs(model.means_).max() < 3
    res = run(runner, "info", model_file)
    assert res.exit_code == 0, res.output
    assert "standardised" in res.output
    # means printed in data units (waiting ~ 54..81 minutes)
    assert "54." in res.output or "55." in res.output
    # the stored log-likelihood is in data units (Jacobian included): a tied model is
    # equivariant under scaling, so it reaches mclust's optimum on the raw data
    assert extra["cli"]["log_likelihood"] == pytest.approx(-1126.315928, abs=1e-5)


def test_fit_parquet_tsv_npy(runner, data_dir, tmp_path):
    for name, cols in (
        ("faithful.parquet", ["-c", "eruptions,waiting"]),
        ("faithful.tsv", []),
        ("faithful.npy", []),
    ):
        out = tmp_path / (name + ".emix")
        res = run(runner, "fit", data_dir / name, "-k", 2, *cols, "-o", out)
        assert res.exit_code == 0, (name, res.output)
        assert emix.load(out).n_features_in_ == 2


def test_predict_keeps_order_and_id(runner, data_dir, model_file, tmp_path):
    out = tmp_path / "labels.csv"
    res = run(runner, "predict", model_file, data_dir / "faithful.csv", "--id", "id", "--proba", "-o", out)
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert list(df.columns) == ["id", "label", "proba_0", "proba_1", "proba_2"]
    assert df["id"].tolist() == [f"r{i}" for i in range(272)]
    np.testing.assert_allclose(df[["proba_0", "proba_1", "proba_2"]].sum(axis=1), 1.0, atol=1e-12)
    # same labels as the library on the standardised data
    model, extra = emix.load(model_file, return_extra=True)
    s = extra["cli"]["standardize"]
    Z = (emix.datasets.load_faithful() - s["loc"]) / np.array(s["scale"])
    np.testing.assert_array_equal(df["label"], model.predict(Z))
    # parquet output, and stdout when no -o (by position from a .npy)
    pq = tmp_path / "labels.parquet"
    assert run(runner, "predict", model_file, data_dir / "faithful.parquet", "-o", pq).exit_code == 0
    assert pd.read_parquet(pq)["label"].tolist() == df["label"].tolist()
    res = run(runner, "predict", model_file, data_dir / "faithful.npy")
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0] == "label" and len(res.stdout.splitlines()) == 273


def test_sample_and_score(runner, data_dir, model_file, tmp_path):
    out = tmp_path / "s.csv"
    res = run(runner, "sample", model_file, "-n", 500, "--seed", 3, "-o", out)
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert list(df.columns) == ["eruptions", "waiting", "component"] and len(df) == 500
    assert 40 < df["waiting"].mean() < 90  # data units, not standardised
    res2 = run(runner, "sample", model_file, "-n", 500, "--seed", 3)
    assert (
        pd.read_csv(__import__("io").StringIO(res2.stdout))["component"].tolist() == df["component"].tolist()
    )
    res = run(runner, "score", model_file, data_dir / "faithful.csv", "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["n_rows"] == 272
    _, extra = emix.load(model_file, return_extra=True)
    assert got["total_log_likelihood"] == pytest.approx(extra["cli"]["log_likelihood"], rel=1e-10)
    res = run(runner, "score", model_file, data_dir / "faithful.csv")
    assert "mean log-likelihood per row" in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "{d}/nope.csv", "-k", "2", "-o", "{t}/m.emix"], "nope.csv: no such file"),
        (["fit", "{d}/empty.csv", "-k", "2", "-o", "{t}/m.emix"], "empty.csv: the file is empty"),
        (["fit", "{d}/header_only.csv", "-k", "2", "-o", "{t}/m.emix"], "no rows"),
        (
            ["fit", "{d}/text.csv", "-k", "2", "-o", "{t}/m.emix"],
            "column 'b' is not numeric (row 2 holds 'oops')",
        ),
        (["fit", "{d}/faithful.csv", "-k", "2", "-o", "{t}/m.emix"], "column 'id' is not numeric"),
        (
            ["fit", "{d}/faithful.csv", "-k", "2", "-c", "eruptions,height", "-o", "{t}/m.emix"],
            "column 'height' not found; columns are: id, eruptions, waiting, site",
        ),
        (
            ["fit", "{d}/faithful.parquet", "-k", "2", "-c", "site", "-o", "{t}/m.emix"],
            "column 'site' is not numeric",
        ),
        (["fit", "{d}/faithful.tsv", "-k", "0", "-o", "{t}/m.emix"], "n_components"),
        (["info", "{d}/garbage.emix"], "not an emix model file"),
        (["info", "{d}/missing.emix"], "missing.emix: no such file"),
        (["predict", "{d}/garbage.emix", "{d}/faithful.csv"], "not an emix model file"),
        (["score", "{d}/m.emix", "{d}/three.csv"], "the model needs the columns eruptions, waiting"),
        (["predict", "{d}/m.emix", "{d}/text.csv"], "column 'b' is not numeric"),
        (["trace", "{d}/faithful.tsv"], "give the number of components with -k"),
    ],
)
def test_errors_are_one_line_and_nonzero(runner, data_dir, model_file, tmp_path, args, message):
    args = [a.format(d=data_dir, t=tmp_path) for a in args]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output
    err = stderr(res)
    assert message in err
    assert err.startswith("emix: error: ") and err.count("\n") == 1
    assert "Traceback" not in res.output
    assert not (tmp_path / "m.emix").exists()


def test_trace_lecture_text_and_json(runner, tmp_path):
    res = run(runner, "trace", "--iterations", "2")
    assert res.exit_code == 0, res.output
    assert "E-step" in res.output and "M-step" in res.output and "KL" in res.output
    res = run(runner, "trace", "--format", "json", "--iterations", "2")
    got = json.loads(res.stdout)
    assert [s["step"] for s in got["steps"]] == ["E", "M", "E", "M"]
    assert got["initial"]["weights"] == [0.6, 0.4]
    assert all(abs(s["kl"]) <= 1e-12 for s in got["steps"] if s["step"] == "E")
    X, init = emix.datasets.load_lecture_example(return_init=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = emix.GaussianMixture(2, max_iter=1, tol=0, reg_covar=0, **init).fit(X)
    np.testing.assert_allclose(got["steps"][1]["means"], gm.means_, rtol=1e-15)
    np.testing.assert_allclose(got["steps"][1]["covariances"], gm.covariances_, rtol=1e-15)


def test_trace_data_file(runner, data_dir, tmp_path):
    small = tmp_path / "small.csv"
    pd.read_csv(data_dir / "faithful.csv").iloc[:30].to_csv(small, index=False)
    png = tmp_path / "stairs.png"
    res = run(runner, "trace", small, "-k", 2, "-c", "eruptions,waiting", "--plot", png)
    assert res.exit_code == 0, res.output
    assert "iteration 3: M-step" in res.output
    assert png.stat().st_size > 5000


def test_fit_with_plot_and_animation(runner, data_dir, tmp_path):
    from PIL import Image

    png, gif = tmp_path / "c.png", tmp_path / "em.gif"
    res = run(
        runner,
        "fit",
        data_dir / "faithful.npy",
        "-k",
        2,
        "--max-iter",
        15,
        "-o",
        tmp_path / "m.emix",
        "--plot",
        png,
        "--animate",
        gif,
        "--progress",
    )
    assert res.exit_code == 0, res.output
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames >= 2
    with Image.open(png) as im:
        assert im.size[0] >= 300


def test_demo_writes_folder(runner, tmp_path):
    from PIL import Image

    out = tmp_path / "demo"
    res = run(runner, "demo", "--out", out, "--no-animate")
    assert res.exit_code == 0, res.output
    assert "-1126.3159" in res.output
    for name in ("model.emix", "faithful.csv", "clusters.png", "convergence.png", "trace.png"):
        assert (out / name).stat().st_size > 0
    assert emix.load(out / "model.emix").n_components == 3
    with Image.open(out / "clusters.png") as im:
        assert im.size == (600, 480)


def test_help_has_examples(runner):
    for cmd in ("fit", "predict", "sample", "score", "info", "demo", "trace"):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0
        assert "Example" in res.output, cmd


def _python_m_emix(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "emix", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entry_point_subprocess_fit_and_error(data_dir, tmp_path):
    out = tmp_path / "m.emix"
    ok = _python_m_emix("fit", data_dir / "faithful.tsv", "-k", 2, "-o", out, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "log-likelihood" in ok.stdout and out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.emix"]  # no temporary left behind
    bad = _python_m_emix("predict", out, data_dir / "text.csv", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("emix: error: ") and "Traceback" not in bad.stderr
    assert bad.stdout == ""


def test_console_script_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'emix = "emix.cli:main"' in text


# -- select ---------------------------------------------------------------------------------------


def test_select_prints_bic_table_and_writes_plot_table_and_model(runner, data_dir, tmp_path):
    from PIL import Image

    plot, table, best = tmp_path / "bic.png", tmp_path / "grid.csv", tmp_path / "best.emix"
    res = run(
        runner,
        "select",
        data_dir / "faithful.csv",
        "-c",
        "eruptions,waiting",
        "-k",
        "1..4",
        "--models",
        "EII,VVI,EEE,VVV",
        "--plot",
        plot,
        "--table",
        table,
        "-o",
        best,
        "--jobs",
        1,
    )
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "BIC of every fit to faithful.csv (mclust's sign" in out
    for m in ("EII", "VVI", "EEE", "VVV"):
        assert m in out
    assert "best: EEE, K=3" in out and "-2314.3" in out
    grid = pd.read_csv(table)
    assert len(grid) == 16 and set(grid["model"]) == {"EII", "VVI", "EEE", "VVV"}
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.size[0] > 500
    model = emix.load(best)
    assert model.covariance_type == "EEE" and model.n_components == 3
    # the saved best model is the one the table chose
    X = pd.read_csv(data_dir / "faithful.csv")[["eruptions", "waiting"]].to_numpy()
    assert -model.bic(X) == pytest.approx(
        grid.query("model == 'EEE' and n_components == 3")["bic"].item(), rel=1e-9
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["-k", "one..two"], "-k 'one..two': give a range like 1..9"),
        (["-k", "0..3"], "every K must be at least 1"),
        (["--models", "EII,XYZ"], "--models: unknown model(s) XYZ; choose from"),
    ],
)
def test_select_bad_options_are_one_line(runner, data_dir, args, message):
    res = run(runner, "select", data_dir / "faithful.csv", "-c", "eruptions,waiting", "--plot", "", *args)
    assert res.exit_code == 1
    assert message in stderr(res)
    assert "Traceback" not in res.output


def test_fit_accepts_mclust_model_names(runner, data_dir, tmp_path):
    out = tmp_path / "vei.emix"
    res = run(
        runner,
        "fit",
        data_dir / "faithful.csv",
        "-k",
        2,
        "-c",
        "eruptions,waiting",
        "--covariance",
        "VEI",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    assert emix.load(out).covariance_type == "VEI"


# -- families, weights, missing cells ------------------------------------------------------------


def test_fit_family_bernoulli_and_poisson(runner, tmp_path):
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, 300)
    counts = pd.DataFrame({"a": rng.poisson(np.where(z, 2.0, 12.0)), "b": rng.poisson(np.where(z, 8.0, 1.0))})
    counts.to_csv(tmp_path / "counts.csv", index=False)
    res = run(
        runner, "fit", tmp_path / "counts.csv", "-k", 2, "--family", "poisson", "-o", tmp_path / "p.emix"
    )
    assert res.exit_code == 0, res.output
    assert "rates a" in res.stdout and "poisson" in res.stdout
    model = emix.load(tmp_path / "p.emix")
    assert type(model).__name__ == "Mixture"
    np.testing.assert_allclose(np.sort(model.rates_[:, 0]), [2.0, 12.0], rtol=0.15)
    binary = (counts > 4).astype(int)
    binary.to_csv(tmp_path / "bin.csv", index=False)
    res = run(
        runner, "fit", tmp_path / "bin.csv", "-k", 2, "--family", "bernoulli", "-o", tmp_path / "b.emix"
    )
    assert res.exit_code == 0, res.output
    assert "probabilities a" in res.stdout
    res = run(runner, "predict", tmp_path / "b.emix", tmp_path / "bin.csv")
    assert res.exit_code == 0 and len(res.stdout.split()) == 301


def test_fit_bad_family_data_is_one_line(runner, data_dir, tmp_path):
    res = run(
        runner,
        "fit",
        data_dir / "faithful.csv",
        "-k",
        2,
        "-c",
        "eruptions,waiting",
        "--family",
        "bernoulli",
        "-o",
        tmp_path / "x.emix",
    )
    assert res.exit_code == 1
    assert "the bernoulli family needs values 0 or 1" in stderr(res)
    assert not (tmp_path / "x.emix").exists()


def test_fit_weights_column_equals_repeated_rows(runner, tmp_path):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(5, 1, (40, 2))])
    w = rng.integers(1, 4, 80)
    pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "w": w}).to_csv(tmp_path / "w.csv", index=False)
    rep = np.repeat(X, w, axis=0)
    pd.DataFrame({"x": rep[:, 0], "y": rep[:, 1]}).to_csv(tmp_path / "rep.csv", index=False)
    opts = ["-k", 2, "--tol", "1e-10", "--max-iter", 500]
    assert (
        run(runner, "fit", tmp_path / "w.csv", *opts, "--weights", "w", "-o", tmp_path / "a.emix").exit_code
        == 0
    )
    assert run(runner, "fit", tmp_path / "rep.csv", *opts, "-o", tmp_path / "b.emix").exit_code == 0
    a, b = emix.load(tmp_path / "a.emix"), emix.load(tmp_path / "b.emix")
    order_a, order_b = np.argsort(a.means_[:, 0]), np.argsort(b.means_[:, 0])
    np.testing.assert_allclose(a.means_[order_a], b.means_[order_b], rtol=1e-6)
    np.testing.assert_allclose(a.weights_[order_a], b.weights_[order_b], rtol=1e-6)


def test_fit_reads_empty_cells_as_missing(runner, data_dir, tmp_path):
    df = pd.read_csv(data_dir / "faithful.csv")[["eruptions", "waiting"]]
    df.loc[[3, 50, 100], "waiting"] = np.nan
    df.loc[[7], "eruptions"] = np.nan
    df.to_csv(tmp_path / "holes.csv", index=False)  # NaN is written as an empty cell
    assert ",," in (tmp_path / "holes.csv").read_text() or "\n," in (tmp_path / "holes.csv").read_text()
    res = run(runner, "fit", tmp_path / "holes.csv", "-k", 2, "-o", tmp_path / "h.emix")
    assert res.exit_code == 0, res.output
    model = emix.load(tmp_path / "h.emix")
    assert model.log_likelihood_ == pytest.approx(model.score_samples(df.to_numpy()).sum(), rel=1e-9)
    res = run(runner, "predict", tmp_path / "h.emix", tmp_path / "holes.csv")
    assert res.exit_code == 0 and len(res.stdout.split()) == 273


def test_weights_column_must_be_complete(runner, data_dir, tmp_path):
    df = pd.read_csv(data_dir / "faithful.csv")[["eruptions", "waiting"]]
    df["w"] = 1.0
    df.loc[9, "w"] = np.nan
    df.to_csv(tmp_path / "w.csv", index=False)
    res = run(runner, "fit", tmp_path / "w.csv", "-k", 2, "--weights", "w", "-o", tmp_path / "x.emix")
    assert res.exit_code == 1
    assert "column 'w' has a missing value in row 10" in stderr(res)


def test_fit_labels_column_semi_supervised(runner, tmp_path):
    rng = np.random.default_rng(0)
    n = 1000
    z = rng.integers(0, 2, n)
    c0, c1 = [[4.0, 3.8], [3.8, 4.0]], [[4.0, -3.8], [-3.8, 4.0]]
    X = np.where(
        z[:, None] == 0, rng.multivariate_normal([0, 0], c0, n), rng.multivariate_normal([1.0, 0], c1, n)
    )
    known = rng.random(n) < 0.1
    df = pd.DataFrame({"x": X[:, 0], "y": X[:, 1], "label": np.where(known, z, np.nan)})
    df.to_csv(tmp_path / "semi.csv", index=False)  # unknown labels are empty cells
    res = run(runner, "fit", tmp_path / "semi.csv", "-k", 2, "--labels", "label", "-o", tmp_path / "s.emix")
    assert res.exit_code == 0, res.output
    model = emix.load(tmp_path / "s.emix")
    assert model.n_features_in_ == 2  # the label column is not a feature
    assert np.mean(model.predict(X) == z) > 0.85
    bad = df.assign(label=np.where(known, 5, np.nan))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    res = run(runner, "fit", tmp_path / "bad.csv", "-k", 2, "--labels", "label", "-o", tmp_path / "b.emix")
    assert res.exit_code == 1
    assert f"bad.csv: the --labels column 'label' has label 5 at row {np.argmax(known) + 1};" in stderr(res)


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_fit_stream_gives_the_in_memory_model(runner, tmp_path, suffix):
    rng = np.random.default_rng(11)
    n = 4000
    X = np.where(rng.random((n, 1)) < 0.4, rng.normal(0, 1, (n, 2)), rng.normal(3, 0.7, (n, 2)))
    X[::31, 1] = np.nan
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(w=rng.uniform(0.5, 2, n))
    data = tmp_path / f"big.{suffix}"
    frame.to_parquet(data) if suffix == "parquet" else frame.to_csv(data, index=False, float_format="%.17g")
    models = {}
    for flag in ("--stream", "--no-stream"):
        out = tmp_path / f"m{flag}.emix"
        res = run(runner, "fit", data, "-k", 2, "--weights", "w", "--covariance", "diag", flag, "-o", out)
        assert res.exit_code == 0, stderr(res)
        models[flag] = emix.load(out)
    a, b = models["--stream"], models["--no-stream"]
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)
    res = run(runner, "fit", data, "-k", 2, "--stream", "--standardize", "-o", tmp_path / "x.emix")
    assert res.exit_code != 0 and "--standardize needs the data in memory" in stderr(res)


def test_info_shows_the_feature_names_of_a_model_fitted_on_a_data_frame(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(emix.datasets.load_faithful(), columns=["eruption_min", "wait_min"])
    model = emix.GaussianMixture(2, random_state=0).fit(frame)
    model.save(tmp_path / "m.emix")
    res = CliRunner().invoke(app, ["info", str(tmp_path / "m.emix")])
    assert res.exit_code == 0, res.output
    assert "eruption_min" in res.output and "wait_min" in res.output
