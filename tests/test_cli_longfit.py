"""``emix fit --online``, ``--checkpoint`` and Ctrl-C, driven through the real Typer app on real files."""

import shlex

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emix
from emix.cli import app


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def stderr(result):
    try:
        return result.stderr
    except ValueError:  # older click mixes the streams
        return result.output


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 20_000
    z = rng.random(n) < 0.4
    X = np.where(z[:, None], rng.normal(0, 1, (n, 2)), rng.normal(6, 0.7, (n, 2))) + 1e4
    path = tmp_path_factory.mktemp("data") / "big.parquet"
    pd.DataFrame(X, columns=["a", "b"]).assign(w=rng.uniform(0.5, 2, n)).to_parquet(path, row_group_size=2000)
    return path


def test_fit_online_reaches_the_batch_model(table, tmp_path):
    batch, online = tmp_path / "batch.emix", tmp_path / "online.emix"
    res = run("fit", table, "-k", 2, "--weights", "w", "-o", batch)
    assert res.exit_code == 0, stderr(res)
    res = run(
        "fit", table, "-k", 2, "--weights", "w", "--online", "--epochs", 3, "--batch-rows", 400, "-o", online
    )
    assert res.exit_code == 0, stderr(res)
    a, b = emix.load(batch), emix.load(online)
    assert b.n_iter_ == 3 * 50 and a.log_likelihood_ - b.log_likelihood_ < 0.01 * 20_000
    assert "model written" in res.output


def test_fit_online_refuses_in_memory_options(table, tmp_path):
    res = run("fit", table, "-k", 2, "--online", "--standardize", "-o", tmp_path / "m.emix")
    assert res.exit_code == 1 and "--standardize cannot be used with --online" in stderr(res)
    res = run("fit", table, "-k", 2, "--online", "--labels", "w", "-o", tmp_path / "m.emix")
    assert res.exit_code == 1 and "--labels cannot be used with --online" in stderr(res)


def test_checkpoint_is_kept_and_resumes(table, tmp_path):
    ckpt, out = tmp_path / "fit.ckpt", tmp_path / "m.emix"
    res = run("fit", table, "-k", 2, "--checkpoint", ckpt, "-o", out)
    assert res.exit_code == 0 and ckpt.exists()
    first = emix.load(out)
    res = run("fit", table, "-k", 2, "--checkpoint", ckpt, "-o", out)
    assert res.exit_code == 0
    np.testing.assert_array_equal(emix.load(out).means_, first.means_)
    res = run("fit", table, "-k", 3, "--checkpoint", ckpt, "-o", out)
    assert res.exit_code == 1 and "n_components: 2 -> 3" in stderr(res)


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_ctrl_c_saves_the_fit_and_prints_the_command_that_resumes(table, tmp_path, monkeypatch, stream):
    out = tmp_path / "m.emix"
    args = ["fit", str(table), "-k", "2", "--max-iter", "40", "--tol", "0", stream, "-o", str(out)]
    res = run(*args)
    assert res.exit_code == 0 and not (tmp_path / "m.emix.checkpoint").exists()  # the command's own: removed
    uninterrupted = emix.load(out)
    out.unlink()

    from emix.engine.driver import _Run

    evaluate, calls = _Run.evaluate, {"n": 0}

    def interrupted(self, params):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return evaluate(self, params)

    monkeypatch.setattr(_Run, "evaluate", interrupted)
    monkeypatch.setattr("sys.argv", ["emix", *args])
    res = run(*args)
    assert res.exit_code == 130 and not out.exists()
    message = stderr(res)
    assert f"the fit's state is saved in {out}.checkpoint" in message
    command = message.split("Resume with:\n")[1].strip()
    assert command.endswith(f"--checkpoint {out}.checkpoint")
    monkeypatch.setattr(_Run, "evaluate", evaluate)
    res = run(*shlex.split(command)[1:])
    assert res.exit_code == 0, stderr(res)
    resumed = emix.load(out)
    for name in ("weights_", "means_", "covariances_", "history_"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(uninterrupted, name))


def test_fit_on_a_scheduler_gives_the_streamed_model(table, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
    try:
        here, there = tmp_path / "here.emix", tmp_path / "there.emix"
        assert run("fit", table, "-k", 2, "--weights", "w", "--stream", "-o", here).exit_code == 0
        res = run(
            "fit", table, "-k", 2, "--weights", "w", "--scheduler", cluster.scheduler_address, "-o", there
        )
        assert res.exit_code == 0, stderr(res)
    finally:
        cluster.close()
    a, b = emix.load(here), emix.load(there)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-9)
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-9)
    monkeypatch.setattr("emix.cli.longfit.CONNECT_TIMEOUT", "1s")
    res = run("fit", table, "-k", 2, "--scheduler", "tcp://127.0.0.1:1", "-o", there)
    assert res.exit_code == 1 and "cannot connect" in stderr(res)


@pytest.mark.parametrize("flag", ["--stream", "--online"])
def test_a_streamed_fit_with_weights_reports_the_weighted_log_likelihood(table, tmp_path, flag):
    out = tmp_path / "m.emix"
    more = ["--epochs", 1, "--batch-rows", 4000] if flag == "--online" else []
    res = run("fit", table, "-k", 2, "--weights", "w", flag, *more, "-o", out)
    assert res.exit_code == 0, stderr(res)
    model, extra = emix.load(out, return_extra=True)
    frame = pd.read_parquet(table)
    w = frame["w"].to_numpy()
    weighted = float(w @ model.score_samples(frame[["a", "b"]].to_numpy()))
    assert abs(weighted - model.score(frame[["a", "b"]].to_numpy()) * len(w)) > 100  # the two differ
    assert extra["cli"]["log_likelihood"] == pytest.approx(weighted, rel=1e-12)
    p = model._n_parameters()
    assert extra["cli"]["bic"] == pytest.approx(-2 * weighted + p * np.log(w.sum()), rel=1e-12)
    assert f"total weight {w.sum():g}" in res.output and "per unit of weight" in res.output
