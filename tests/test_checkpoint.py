"""checkpoint=PATH: a fit interrupted at any moment and started again gives the uninterrupted result.

Interruptions are made deterministic by a source that stops at a chosen
chunk (an exception in this process, or a pause in a child process that is
then killed with SIGKILL); no timing is involved.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import emix
from emix.sources import ArraySource, ParquetSource

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 700


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(0, 1, (3000, 3)), rng.normal(2.5, 1.3, (2000, 3))])
    return X + 50.0


class Interrupting(ArraySource):
    """The rows of ``X``; reading the ``at``-th chunk (over all passes) raises KeyboardInterrupt."""

    def __init__(self, X, at):
        super().__init__(X, None, CHUNK)
        self.at, self.seen = at, 0

    def chunks(self):
        for chunk in super().chunks():
            self.seen += 1
            if self.seen == self.at:
                raise KeyboardInterrupt
            yield chunk


def chunked(X):
    """``X`` read as :class:`Interrupting` reads it, never interrupted: the fits a resumed fit
    is held to. (An :class:`ArraySource` itself is summed in fixed row groups, a subclass in its
    chunks; the two agree to rounding, and "bitwise" holds between fits that sum alike.)"""
    return Interrupting(X, None)


def model(path=None, **kw):
    settings = dict(n_init=2, init_params="random_from_data", random_state=1, max_iter=60, n_jobs=2)
    settings.update(kw)
    return emix.GaussianMixture(3, checkpoint=path, **settings)


def quiet_fit(m, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m.fit(X)


def assert_same(a, b):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "history_", "accelerated_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.n_iter_, a.converged_, a.lower_bound_) == (b.n_iter_, b.converged_, b.lower_bound_)


@pytest.fixture(scope="module")
def reference():
    return quiet_fit(model(), chunked(data()))


@pytest.mark.parametrize("at", [1, 5, 40, 150, 260, 330])
def test_an_interrupted_fit_resumes_to_the_same_parameters_bitwise(tmp_path, reference, at):
    """Chunk ``at`` falls in the initialisation (1, 5), the first restart, or the second."""
    path = tmp_path / "fit.ckpt"
    with pytest.raises(KeyboardInterrupt):
        quiet_fit(model(path), Interrupting(data(), at))
    resumed = quiet_fit(model(path), chunked(data()))
    assert_same(resumed, reference)
    meta = json.loads(zipfile.ZipFile(path).read("checkpoint.json"))
    assert meta["finished"] and meta["restart"] == 2 and meta["run"] is None


def test_several_interruptions_and_the_default_stopping_rule(tmp_path):
    settings = dict(max_iter=300, random_state=2)  # converges (seed 1 climbs a slow ridge)
    ref = quiet_fit(model(**settings), chunked(data()))
    assert ref.converged_
    path = tmp_path / "fit.ckpt"
    for at in (20, 60, 61, 130):
        with pytest.raises(KeyboardInterrupt):
            quiet_fit(model(path, **settings), Interrupting(data(), at))
    assert_same(quiet_fit(model(path, **settings), chunked(data())), ref)


def test_a_finished_checkpoint_returns_the_fit_at_once(tmp_path, monkeypatch):
    path = tmp_path / "fit.ckpt"
    first = quiet_fit(model(path), data())  # in memory, chunked by the estimator

    def no_em(*args, **kwargs):
        raise AssertionError("EM ran again")

    monkeypatch.setattr("emix.estimators.core.run_em", no_em)
    monkeypatch.setattr("emix.estimators.core.MixtureEstimator._start", no_em)
    assert_same(quiet_fit(model(path), data()), first)


def test_a_checkpoint_of_other_data_or_settings_is_refused(tmp_path):
    path = tmp_path / "fit.ckpt"
    quiet_fit(model(path, max_iter=3), data())
    X = data()
    X[1000, 2] += 1e-9
    with pytest.raises(emix.CheckpointMismatchError, match=r"its data differ \(rows: "):
        model(path, max_iter=3).fit(X)
    with pytest.raises(emix.CheckpointMismatchError, match=r"settings differ \(max_iter: 3 -> 4; tol"):
        model(path, max_iter=4, tol=0.5).fit(data())
    with pytest.raises(emix.CheckpointMismatchError, match=r"n_samples: 5000 -> 4999"):
        model(path, max_iter=3).fit(data()[:-1])
    assert issubclass(emix.CheckpointMismatchError, ValueError)
    # settings that do not change the result may differ
    quiet_fit(model(path, max_iter=3, n_jobs=1, verbose=0, online_step=0.9), data())


def test_file_sources_are_fingerprinted_by_their_files(tmp_path):
    X = data()
    pq = tmp_path / "x.parquet"
    pd.DataFrame(X, columns=["a", "b", "c"]).to_parquet(pq, row_group_size=1000)
    path = tmp_path / "fit.ckpt"
    first = quiet_fit(model(path, max_iter=5), ParquetSource(pq))
    assert_same(quiet_fit(model(path, max_iter=5), ParquetSource(pq)), first)
    with pytest.raises(
        emix.CheckpointMismatchError, match=r"columns: \[\"a\", \"b\", \"c\"\] -> \[\"a\", \"b\"\]"
    ):
        model(path, max_iter=5).fit(ParquetSource(pq, columns=["a", "b"]))


def test_bad_checkpoint_paths_and_files(tmp_path):
    with pytest.raises(emix.InvalidParameterError, match="is a folder"):
        model(tmp_path).fit(data())
    with pytest.raises(emix.InvalidParameterError, match="checkpoint must be a file path"):
        model(3).fit(data())
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a zip")
    with pytest.raises(emix.ModelFileError, match="not an emix checkpoint.*delete it"):
        model(junk).fit(data())


def test_checkpoints_are_no_pickles(tmp_path):
    path = tmp_path / "fit.ckpt"
    with pytest.raises(KeyboardInterrupt):
        quiet_fit(model(path), Interrupting(data(), 100))
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == "checkpoint.json" and all(n.endswith(".npy") for n in names[1:])
        for name in names[1:]:
            np.lib.format.read_array(zf.open(name), allow_pickle=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: emix.StudentMixture(2, random_state=0, max_iter=30, checkpoint=p),
        lambda p: emix.PoissonMixture(2, random_state=0, max_iter=30, n_init=2, checkpoint=p),
        lambda p: emix.GaussianMixture(2, covariance_type="VEV", random_state=0, max_iter=30, checkpoint=p),
    ],
)
def test_other_families_resume_bitwise(tmp_path, make):
    X = np.abs(np.round(data()[:, :2] - 48.0)) if "Poisson" in repr(make(None)) else data()[:, :2]
    ref = quiet_fit(make(None), chunked(X))
    path = tmp_path / "fit.ckpt"
    with pytest.raises(KeyboardInterrupt):
        quiet_fit(make(path), Interrupting(X, 45))
    got = quiet_fit(make(path), chunked(X))
    for name in ("weights_", "history_", *(n + "_" for n in got._make_family().array_names())):
        np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_checkpoint import data, model, CHUNK
    from emix.sources import ArraySource

    class Pausing(ArraySource):
        def chunks(self):
            for chunk in super().chunks():
                Pausing.seen = getattr(Pausing, "seen", 0) + 1
                if Pausing.seen == {at}:
                    print("paused", flush=True)
                    time.sleep(600)
                yield chunk

    model({path!r}).fit(Pausing(data(), None, CHUNK))
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("at", [90, 230])
def test_a_process_killed_with_sigkill_resumes_bitwise(tmp_path, reference, at):
    path = tmp_path / "fit.ckpt"
    code = CHILD.format(tests=str(ROOT / "tests"), at=at, path=str(path))
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
    assert path.exists()
    meta = json.loads(zipfile.ZipFile(path).read("checkpoint.json"))
    assert not meta["finished"] and meta["run"] is not None
    assert_same(quiet_fit(model(path), chunked(data())), reference)


class Counting(ArraySource):
    """The rows of ``X`` in one chunk per pass, counting the chunks read."""

    def __init__(self, X):
        super().__init__(X, None, CHUNK)
        self.seen = 0

    def chunks(self):
        for chunk in super().chunks():
            self.seen += 1
            yield chunk


@pytest.mark.parametrize("phase, chunk", [("plain", 30), ("plain", 100), ("squarem", 40), ("squarem", 10)])
def test_small_data_resume_the_plain_attempt_or_the_squarem_run_bitwise(tmp_path, phase, chunk):
    """Small data make plain EM first and SQUAREM from the same start when it does not converge
    (issue 15). Interrupted in the plain attempt (at chunk ``chunk``), the resumed attempt is
    discarded as the uninterrupted one was and SQUAREM starts where the attempt began, not where
    it was interrupted; interrupted in the SQUAREM run (``chunk`` chunks before the end), that
    run resumes without a new plain attempt."""
    X = emix.datasets.load_faithful()

    def small(path=None):
        return emix.GaussianMixture(3, covariance_type="tied", random_state=0, checkpoint=path)

    counting = Counting(X)
    ref = quiet_fit(small(tmp_path / "ref.ckpt"), counting)
    assert ref.converged_ and any(ref.accelerated_)  # the plain attempt was discarded
    at = chunk if phase == "plain" else counting.seen - chunk
    path = tmp_path / "fit.ckpt"
    with pytest.raises(KeyboardInterrupt):
        quiet_fit(small(path), Interrupting(X, at))
    assert_same(quiet_fit(small(path), chunked(X)), ref)
