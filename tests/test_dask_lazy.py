"""Dask at full speed: lazy predictions, the user's client, one task per worker, a worker killed mid-fit."""

import os
import signal
import warnings

import numpy as np
import pandas as pd
import pytest

import emix
from emix.sources import DaskSource

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def blobs(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.4
    return np.where(z[:, None], rng.normal(0, 1, (n, 3)), rng.normal(4, 0.7, (n, 3))) + 100.0


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return emix.GaussianMixture(2, random_state=0).fit(blobs())


def test_predictions_on_a_dask_array_are_lazy_dask_arrays(fitted):
    X = blobs(seed=1)
    calls = []

    def source_block(block):
        if block.size:  # dask also calls it on an empty block, to learn its type
            calls.append(1)
        return block

    dX = da.from_array(X, chunks=(1000, 3)).map_blocks(source_block, dtype=X.dtype)
    labels, proba, dens = fitted.predict(dX), fitted.predict_proba(dX), fitted.score_samples(dX)
    assert not calls  # nothing computed yet
    for lazy in (labels, proba, dens):
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == (1000,) * 4
    assert (labels.shape, proba.shape, dens.shape) == ((4000,), (4000, 2), (4000,))
    assert labels.dtype == np.int64 and proba.dtype == np.float64
    np.testing.assert_array_equal(labels.compute(), fitted.predict(X))
    np.testing.assert_allclose(proba.compute(), fitted.predict_proba(X), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(dens.compute(), fitted.score_samples(X), rtol=1e-13)
    assert fitted.score(dX) == pytest.approx(fitted.score(X), rel=1e-13)


def test_a_bad_value_is_named_by_its_row_in_the_whole_array(fitted):
    X = blobs(seed=1)
    X[2500, 1] = np.inf
    labels = fitted.predict(da.from_array(X, chunks=(1000, 3)))  # still lazy: no error yet
    with pytest.raises(emix.InvalidInputError, match=r"dask data: .*row 2500"):
        labels.compute()
    with pytest.raises(emix.InvalidInputError, match="X has 2 features, but the model was fitted with 3"):
        fitted.predict(da.from_array(X[:, :2], chunks=(1000, 2)))


def test_dataframes_and_missing_values(fitted):
    X = blobs(seed=2)
    X[::7, 0] = np.nan
    import dask.dataframe as dd

    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    got = fitted.predict_proba(frame)
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(got.compute(), fitted.predict_proba(X), rtol=1e-12, atol=1e-300)


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _where_and_offset(X, w, off):
    return distributed.get_worker().address, off


def test_a_pass_is_one_call_per_worker_to_a_resident_runner(client):
    X = blobs()
    dX = client.persist(da.from_array(X, chunks=(500, 3)))
    distributed.wait(dX)
    src = DaskSource(dX)
    holders = {w for ws in client.who_has(client.futures_of(dX)).values() for w in ws}
    with distributed.get_task_stream(client) as stream:
        for _ in range(3):
            values = list(src.map_chunks(_where_and_offset))
            assert [off for _, off in values] == list(range(0, 4000, 500))  # the 8 blocks, in order
            assert {a for a, _ in values} == holders  # each block ran where it lives
    # the only tasks are the runners' making, one per worker holding blocks, on the first pass
    assert sorted(t["key"].split("-")[0] for t in stream.data) == ["BlockRunner"] * len(holders)


def test_without_runners_a_pass_is_one_task_per_worker(client):
    X = blobs()
    dX = client.persist(da.from_array(X, chunks=(500, 3)))
    distributed.wait(dX)
    src = DaskSource(dX)
    src._runners._refused = True  # as on a cluster that cannot make actors
    with distributed.get_task_stream(client) as stream:
        values = list(src.map_chunks(_where_and_offset))
    assert [off for _, off in values] == list(range(0, 4000, 500))
    holders = {w for ws in client.who_has(client.futures_of(dX)).values() for w in ws}
    assert len(stream.data) == len(holders) <= 2  # one task per worker holding blocks
    assert {a for a, _ in values} == holders


def _refuse_block_1000(X, w, off):
    if off == 1000:
        raise emix.InvalidInputError("row 1000: refused")
    return off


def test_an_error_of_the_pass_function_reaches_the_caller_as_it_was_raised(client):
    dX = client.persist(da.from_array(blobs(), chunks=(500, 3)))
    distributed.wait(dX)
    src = DaskSource(dX)
    assert list(src.map_chunks(lambda X, w, off: off)) == list(range(0, 4000, 500))  # runners made
    with pytest.raises(emix.InvalidInputError, match="row 1000: refused"):
        list(src.map_chunks(_refuse_block_1000))
    assert src._runners._key is not None  # the runners are kept: the function failed, not they


def test_fit_uses_the_default_client_and_equals_the_threads(client):
    X = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = emix.GaussianMixture(2, random_state=0, chunk_size=500, n_jobs=2).fit(X)
        got = emix.GaussianMixture(2, random_state=0).fit(da.from_array(X, chunks=(500, 3)))
    # the in-memory fit sums fixed row groups (emix.engine.passes.row_groups), the Dask fit its
    # chunks: the same fit to rounding
    np.testing.assert_allclose(got.means_, ref.means_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.history_, ref.history_, rtol=1e-13)


class KillingSource(DaskSource):
    """A DaskSource whose ``kill_pass``-th pass kills the worker running its first block (SIGKILL)."""

    kill_pass = 3

    def __init__(self, *args, marker, **kwargs):
        super().__init__(*args, **kwargs)
        self.marker, self.passes = str(marker), 0

    def map_chunks(self, fn, pool=None):
        self.passes += 1
        return super().map_chunks(_KillOnce(fn, self.marker) if self.passes == self.kill_pass else fn, pool)


class _KillOnce:
    def __init__(self, fn, marker):
        self.fn, self.marker = fn, marker

    def __call__(self, X, w, offset):
        if offset == 0 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)  # this worker process dies mid-pass
        return self.fn(X, w, offset)


@pytest.mark.filterwarnings("ignore")
def test_a_worker_killed_mid_fit_gives_the_uninterrupted_result(tmp_path):
    X = blobs(3000)
    settings = dict(random_state=0, tol=0, max_iter=8, init_params="random_from_data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        with distributed.Client(cluster) as c:
            src = KillingSource(da.from_array(X, chunks=(500, 3)), marker=tmp_path / "killed")
            # the uninterrupted result: the same chunks summed in the same order (an in-memory
            # fit sums fixed row groups instead, and SQUAREM's accept test at the plateau may
            # then go the other way on a rounding difference)
            ref = emix.GaussianMixture(2, **settings).fit(DaskSource(da.from_array(X, chunks=(500, 3))))
            pids = set(c.run(os.getpid).values())
            got = emix.GaussianMixture(2, **settings).fit(src)
            assert (tmp_path / "killed").exists() and src.passes > KillingSource.kill_pass
            assert set(c.run(os.getpid).values()) != pids  # a worker was replaced
    finally:
        cluster.close()
    for name in ("weights_", "means_", "covariances_", "history_"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-9, atol=0, err_msg=name)


def test_where_the_blocks_live_is_asked_once_and_again_when_they_move(client, monkeypatch):
    dX = client.persist(da.from_array(blobs(), chunks=(500, 3)))
    distributed.wait(dX)
    src = DaskSource(dX)
    asked = []
    who_has = client.who_has
    monkeypatch.setattr(client, "who_has", lambda *a, **k: asked.append(1) or who_has(*a, **k))
    fn = lambda X, w, off: off  # noqa: E731
    for _ in range(3):
        assert list(src.map_chunks(fn)) == list(range(0, 4000, 500))
    assert len(asked) == 1  # one round trip to the scheduler for three passes
    _, where, order = src._placed
    src._placed = (id(client), ["tcp://elsewhere:1"] * len(where), order)  # as if the blocks had moved
    assert list(src.map_chunks(fn)) == list(range(0, 4000, 500))  # still right: the scheduler moves them
    assert src._placed is None  # the task ran elsewhere than recorded: asked again next pass
    list(src.map_chunks(fn))
    assert len(asked) == 2 and src._placed[1] == where


def _blas_threads(X, w, offset):
    from threadpoolctl import threadpool_info

    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


@pytest.mark.filterwarnings("ignore")
def test_a_worker_process_runs_its_task_with_blas_as_narrow_as_its_threads():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
        )
    try:
        with distributed.Client(cluster) as c:
            outside = c.run(_blas_threads, None, None, 0)
            assert set(outside.values()) == {2}  # the worker's BLAS as the environment set it
            dX = c.persist(da.from_array(blobs(1000), chunks=(500, 3)))
            distributed.wait(dX)
            assert list(DaskSource(dX).map_chunks(_blas_threads)) == [1, 1]  # within the task: 1 thread
            assert set(c.run(_blas_threads, None, None, 0).values()) == {2}  # and restored after
    finally:
        cluster.close()
