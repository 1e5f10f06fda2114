"""checkpoint=PATH with partial_fit, and ``emix fit --online --checkpoint``: killed and run again, the same
parameters bit for bit.

Interruptions are deterministic: the child process pauses at a chosen batch (after that batch's
checkpoint is written, :data:`SAVE_SECONDS` set to 0) and is killed with SIGKILL; no timing is involved.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import emix
from emix.cli import app
from emix.estimators import online_checkpoints
from emix.exceptions import CheckpointMismatchError

ROOT = Path(__file__).resolve().parent.parent
N_BATCHES = 40


def batches(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random(8000) < 0.4
    X = np.where(z[:, None], rng.normal(0, 1, (8000, 3)), rng.normal(2.5, 1.3, (8000, 3))) + 50.0
    w = rng.uniform(0.5, 2.0, 8000)
    return list(zip(np.array_split(X, N_BATCHES), np.array_split(w, N_BATCHES), strict=True))


def model(path=None, **kw):
    settings = dict(init_params="random_from_data", random_state=1, n_jobs=1, online_step=0.8)
    settings.update(kw)
    return emix.GaussianMixture(3, checkpoint=path, **settings)


def online_fit(m, data, stop=None):
    for i, (X, w) in enumerate(data):
        if i == stop:
            break
        m.partial_fit(X, sample_weight=w)
    return m


def assert_same(a, b):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "history_", "lower_bounds_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.n_iter_, a.lower_bound_, a.log_likelihood_) == (b.n_iter_, b.lower_bound_, b.log_likelihood_)


@pytest.fixture(autouse=True)
def save_every_batch(monkeypatch):
    monkeypatch.setattr(online_checkpoints, "SAVE_SECONDS", 0.0)


@pytest.fixture(scope="module")
def reference():
    return online_fit(model(), batches())


@pytest.mark.parametrize("stop", [1, 2, 17, N_BATCHES])
def test_a_stopped_online_fit_resumes_to_the_same_parameters_bitwise(tmp_path, reference, stop):
    path = tmp_path / "online.ckpt"
    online_fit(model(path), batches(), stop=stop)
    resumed = model(path)
    online_fit(resumed, batches())
    assert_same(resumed, reference)
    assert resumed.n_iter_ == N_BATCHES


def test_a_checkpoint_is_written_at_most_every_save_seconds(tmp_path, monkeypatch, reference):
    monkeypatch.setattr(online_checkpoints, "SAVE_SECONDS", 3600.0)
    path = tmp_path / "online.ckpt"
    online_fit(model(path), batches(), stop=10)
    meta = json.loads(zipfile.ZipFile(path).read("checkpoint.json"))
    assert meta["kind"] == "online" and meta["n_batches"] == 1  # only the first batch's write so far
    resumed = online_fit(model(path), batches())  # batch 1 replayed, batches 2.. computed again
    assert_same(resumed, reference)


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_other_batches_settings_or_fits_are_refused(tmp_path):
    path = tmp_path / "online.ckpt"
    online_fit(model(path), batches(), stop=5)
    data = batches()
    data[3] = (data[3][0] + 1e-9, data[3][1])
    with pytest.raises(CheckpointMismatchError, match=r"batch 4 of this online fit differs from the batch 4"):
        online_fit(model(path), data)
    with pytest.raises(CheckpointMismatchError, match=r"settings differ \(online_step: 0.8 -> 0.9\)"):
        online_fit(model(path, online_step=0.9), batches())
    X = np.concatenate([X for X, _ in batches()])
    with pytest.raises(CheckpointMismatchError, match=r"is of an online fit \(partial_fit\), not of fit"):
        model(path, max_iter=3).fit(X)
    batch = tmp_path / "batch.ckpt"
    model(batch, max_iter=3, tol=0).fit(X)
    with pytest.raises(CheckpointMismatchError, match=r"is of a batch fit \(fit\), not of an online one"):
        online_fit(model(batch), batches())


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
def test_an_online_run_from_a_fitted_model_checks_its_start(tmp_path):
    X = np.concatenate([X for X, _ in batches(seed=3)])
    path = tmp_path / "online.ckpt"
    start = model(max_iter=5).fit(X)
    start.checkpoint = path
    online_fit(start, batches(), stop=6)
    again = model(max_iter=5).fit(X)
    again.checkpoint = path
    reference = online_fit(model(max_iter=5).fit(X), batches())
    assert_same(online_fit(again, batches()), reference)
    other = model(max_iter=5, random_state=2).fit(X)
    other.set_params(random_state=1, checkpoint=path)
    with pytest.raises(CheckpointMismatchError, match="the fitted parameters it started from"):
        online_fit(other, batches())


CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from emix.estimators import online_checkpoints
    from emix.estimators.online import OnlineMixin
    online_checkpoints.SAVE_SECONDS = 0.0
    seen = {{"n": 0}}
    original = OnlineMixin._partial_fit_batch

    def pausing(self, *args):
        original(self, *args)
        seen["n"] += 1
        if seen["n"] == {at}:
            print("paused", flush=True)
            time.sleep(600)

    OnlineMixin._partial_fit_batch = pausing
    {run}
    print("finished", flush=True)
    """
)


def kill_at(at, run):
    """Run ``run`` (Python) in a child that pauses after batch ``at``; kill it there with SIGKILL."""
    code = CHILD.format(tests=str(ROOT / "tests"), at=at, run=run)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert child.stdout.readline().strip() == "paused"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()


def test_a_partial_fit_loop_killed_with_sigkill_resumes_bitwise(tmp_path, reference):
    path = tmp_path / "online.ckpt"
    kill_at(
        23,
        f"from test_online_checkpoint import batches, model, online_fit\nonline_fit(model({str(path)!r}), batches())",
    )
    meta = json.loads(zipfile.ZipFile(path).read("checkpoint.json"))
    assert meta["kind"] == "online" and meta["n_batches"] == 23
    assert_same(online_fit(model(path), batches()), reference)


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_emix_fit_online_checkpoint_killed_with_sigkill_resumes_bitwise(tmp_path):
    rng = np.random.default_rng(5)
    n = 12_000
    z = rng.random(n) < 0.4
    X = np.where(z[:, None], rng.normal(0, 1, (n, 2)), rng.normal(6, 0.7, (n, 2))) + 1e4
    table = tmp_path / "big.parquet"
    pd.DataFrame(X, columns=["a", "b"]).assign(w=rng.uniform(0.5, 2, n)).to_parquet(
        table, row_group_size=3000
    )
    args = [
        "fit",
        table,
        "-k",
        2,
        "--weights",
        "w",
        "--online",
        "--epochs",
        2,
        "--batch-rows",
        500,
        "--seed",
        3,
    ]
    res = cli(*args, "-o", tmp_path / "whole.emix")
    assert res.exit_code == 0, res.output
    whole = emix.load(tmp_path / "whole.emix")
    assert whole.n_iter_ == 2 * 24 and not (tmp_path / "whole.emix.checkpoint").exists()

    ckpt, out = tmp_path / "fit.ckpt", tmp_path / "m.emix"
    argv = [str(a) for a in (*args, "--checkpoint", ckpt, "-o", out)]
    kill_at(30, f"from emix.cli import app\napp({argv!r})")  # in the second epoch
    assert ckpt.exists() and not out.exists()
    assert json.loads(zipfile.ZipFile(ckpt).read("checkpoint.json"))["n_batches"] == 30
    res = cli(*argv)
    assert res.exit_code == 0, res.output
    assert_same(emix.load(out), whole)
    res = cli(*argv)  # finished: every batch replayed against the checkpoint, none computed again
    assert res.exit_code == 0 and json.loads(zipfile.ZipFile(ckpt).read("checkpoint.json"))["n_batches"] == 48
    assert_same(emix.load(out), whole)
