"""Sources: fits on Parquet and CSV files and on a Dask cluster equal the in-memory fit.

Real files in ``tmp_path``, a real ``distributed.LocalCluster`` (threads, two
workers, one per module).
"""

import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import emix
from emix.engine import e_pass
from emix.sources import (
    ArraySource,
    CSVSource,
    DaskSource,
    ParquetSource,
    SourceSummary,
    map_chunks,
    summarise,
)

RTOL = 1e-9


def gaussian_data(n=3000, seed=0, nan_every=0):
    rng = np.random.default_rng(seed)
    k = rng.random(n) < 0.4
    X = np.where(
        k[:, None], rng.normal([0.0, 0.0, 0.0], 1.0, (n, 3)), rng.normal([4.0, -2.0, 1.0], 0.6, (n, 3))
    )
    X += 100.0  # an offset: statistics must not lose digits
    if nan_every:
        X[::nan_every, 1] = np.nan
        X[5::nan_every, 2] = np.nan
    w = rng.uniform(0.5, 2.0, n)
    return X, w


def poisson_data(n=3000, seed=1):
    rng = np.random.default_rng(seed)
    rates = np.where(rng.random((n, 1)) < 0.5, 2.0, 9.0)
    return rng.poisson(rates, size=(n, 4)).astype(np.float64)


def write(tmp_path, X, w=None, fmt="parquet", name="data"):
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    if w is not None:
        df["w"] = w
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, float_format="%.17g")
    return path


def fit_quiet(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


def assert_same_fit(a, b, names):
    for name in names:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        scale = max(float(np.max(np.abs(y))), 1.0)
        np.testing.assert_allclose(x, y, rtol=RTOL, atol=RTOL * scale, err_msg=name)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=RTOL)
    np.testing.assert_allclose(a.history_, b.history_, rtol=RTOL)
    assert a.n_iter_ == b.n_iter_


GAUSS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def gm(cov, **kw):
    return emix.GaussianMixture(2, covariance_type=cov, random_state=3, n_jobs=1, **kw)


# -- files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("cov", ["full", "diag", "tied"])
def test_file_fit_equals_memory(tmp_path, fmt, cov):
    X, w = gaussian_data()
    path = write(tmp_path, X, w, fmt)
    src = (
        ParquetSource(path, weights="w", batch_rows=700)
        if fmt == "parquet"
        else CSVSource(path, weights="w", chunk_rows=700)
    )
    assert (src.n_samples, src.n_features, src.columns) == (3000, 3, ("f0", "f1", "f2"))
    assert src.total_weight == pytest.approx(w.sum(), rel=1e-12)
    ref = fit_quiet(gm(cov), X, sample_weight=w)
    got = fit_quiet(gm(cov), src)
    assert_same_fit(got, ref, GAUSS)
    np.testing.assert_array_equal(got.predict(src), ref.predict(X))
    np.testing.assert_allclose(got.score_samples(src), ref.score_samples(X), rtol=1e-12)
    assert got.score(src) == pytest.approx(ref.score(X), rel=1e-12)
    assert got.bic(src) == pytest.approx(ref.bic(X), rel=1e-12)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_file_with_missing_values_equals_memory(tmp_path, fmt):
    X, _ = gaussian_data(nan_every=13)
    path = write(tmp_path, X, None, fmt)
    src = ParquetSource(path, batch_rows=500) if fmt == "parquet" else CSVSource(path, chunk_rows=500)
    assert src.summary.n_missing == int(np.isnan(X).sum())
    ref = fit_quiet(gm("full"), X)
    got = fit_quiet(gm("full"), src)
    assert_same_fit(got, ref, GAUSS)
    np.testing.assert_allclose(got.predict_proba(src), ref.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_non_gaussian_family_on_files(tmp_path):
    Y = poisson_data()
    ref = fit_quiet(emix.PoissonMixture(2, random_state=0, n_jobs=1), Y)
    for fmt in ("parquet", "csv"):
        src = (
            ParquetSource(write(tmp_path, Y, None, fmt), batch_rows=512)
            if fmt == "parquet"
            else CSVSource(write(tmp_path, Y, None, fmt), chunk_rows=512)
        )
        got = fit_quiet(emix.PoissonMixture(2, random_state=0, n_jobs=1), src)
        assert_same_fit(got, ref, ("weights_", "rates_"))


@pytest.mark.parametrize("family", ["categorical", "bernoulli"])
def test_discrete_family_with_missing_values_on_a_file(tmp_path, family):
    rng = np.random.default_rng(2)
    C = rng.integers(0, 4, (3000, 3)).astype(np.float64)
    if family == "bernoulli":
        C = (C > 1).astype(np.float64)
    C[::17, 1] = np.nan
    path = write(tmp_path, C, fmt="csv")
    ref = fit_quiet(emix.Mixture(2, family=family, random_state=0, n_jobs=1), C)
    got = fit_quiet(emix.Mixture(2, family=family, random_state=0), CSVSource(path, chunk_rows=333))
    assert_same_fit(got, ref, ("weights_", "probabilities_"))


def test_chunk_size_does_not_change_the_fit(tmp_path):
    X, w = gaussian_data()
    path = write(tmp_path, X, w)
    a = fit_quiet(gm("full"), ParquetSource(path, weights="w", batch_rows=256))
    b = fit_quiet(gm("full"), ParquetSource(path, weights="w", batch_rows=100_000))
    assert_same_fit(a, b, GAUSS)


def test_file_source_memory_is_bounded_by_a_chunk(tmp_path):
    rng = np.random.default_rng(5)
    n, d = 300_000, 4
    X = np.where(rng.random((n, 1)) < 0.5, rng.normal(0, 1, (n, d)), rng.normal(3, 1, (n, d)))
    path = write(tmp_path, X)
    data_bytes = X.nbytes  # 9.6 MB as float64
    del X
    src = ParquetSource(path, batch_rows=8192)
    model = gm("diag", max_iter=3, tol=0, n_init=1, accelerate=False)
    tracemalloc.start()
    try:
        fit_quiet(model, src)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.n_iter_ == 3
    assert peak < data_bytes / 5, (peak, data_bytes)


def test_bad_cell_deep_in_a_csv_is_named(tmp_path):
    X, _ = gaussian_data(n=50_000)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).astype(object)
    df.loc[41_234, "b"] = "oops"
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    src = CSVSource(path, chunk_rows=4096)
    with pytest.raises(
        emix.InputTypeError, match=r"bad\.csv: column 'b' is not numeric \(row 41235 holds 'oops'"
    ):
        emix.GaussianMixture(2).fit(src)


def test_infinite_value_deep_in_a_parquet_file_is_named(tmp_path):
    X, _ = gaussian_data(n=20_000)
    X[17_001, 2] = np.inf
    path = write(tmp_path, X, name="inf")
    with pytest.raises(
        emix.InvalidInputError, match=r"inf\.parquet: column 'f2' has an infinite value in row 17002"
    ):
        emix.GaussianMixture(2).fit(ParquetSource(path, batch_rows=1000))


def test_family_check_names_file_column_and_absolute_row(tmp_path):
    Y = poisson_data(n=10_000)
    Y[8_765, 3] = 2.5
    path = write(tmp_path, Y, name="counts", fmt="csv")
    with pytest.raises(emix.InvalidInputError, match=r"counts\.csv: .*row 8766, column 'f3'"):
        emix.PoissonMixture(2).fit(CSVSource(path, chunk_rows=1000))


def test_missing_value_refused_where_the_family_does_not_allow_it(tmp_path):
    X, _ = gaussian_data(n=5000)
    X[4321, 0] = np.nan
    path = write(tmp_path, X, name="gaps")
    with pytest.raises(
        emix.InvalidInputError, match=r"gaps\.parquet: .*row 4322, column 'f0'.*StudentMixture"
    ):
        emix.StudentMixture(2).fit(ParquetSource(path, batch_rows=1000))


def test_weights_and_labels_errors(tmp_path):
    X, w = gaussian_data(n=500)
    w[321] = -1.0
    path = write(tmp_path, X, w, fmt="csv", name="neg")
    with pytest.raises(emix.InvalidInputError, match=r"neg\.csv: weights column 'w' has -1\.0 in row 322"):
        emix.GaussianMixture(2).fit(CSVSource(path, weights="w"))
    good = write(tmp_path, X, None)
    with pytest.raises(emix.InvalidParameterError, match="partial labels"):
        emix.GaussianMixture(2).fit(ParquetSource(good), labels=np.zeros(500, dtype=int))
    with pytest.raises(emix.InvalidParameterError, match="carries its weights"):
        emix.GaussianMixture(2).fit(ParquetSource(good), sample_weight=np.ones(500))
    with pytest.raises(emix.InvalidInputError, match="column 'zz' not found"):
        ParquetSource(good, columns=["f0", "zz"])


def test_columns_subset_and_order(tmp_path):
    X, _ = gaussian_data(n=800)
    path = write(tmp_path, X, fmt="csv")
    src = CSVSource(path, columns=["f2", "f0"], chunk_rows=300)
    np.testing.assert_array_equal(np.concatenate([c for c, _ in src.chunks()]), X[:, [2, 0]])


# -- the contract --------------------------------------------------------------------------------------


def test_map_chunks_gives_offsets_in_chunk_order():
    X = np.arange(20.0).reshape(10, 2)
    src = ArraySource(X, None, chunk_size=3)
    assert list(src.map_chunks(lambda X, w, off: (off, X.shape[0]))) == [(0, 3), (3, 3), (6, 3), (9, 1)]


class _ChunksOnly:
    """A third-party source with the old contract only (no ``map_chunks``)."""

    def __init__(self, X):
        self.X, self.n_samples, self.n_features, self.dtype = X, X.shape[0], X.shape[1], X.dtype
        self.total_weight = float(X.shape[0])

    def first_chunk(self):
        return self.X[:100]

    def chunks(self):
        for s in range(0, self.n_samples, 100):
            yield self.X[s : s + 100], None


def test_a_source_with_chunks_only_still_works():
    X, _ = gaussian_data(n=1000)
    src = _ChunksOnly(X)
    assert [o for o in map_chunks(src, lambda X, w, off: off)] == list(range(0, 1000, 100))
    ref = fit_quiet(gm("full", chunk_size=100), X)
    assert_same_fit(fit_quiet(gm("full"), src), ref, GAUSS)


def test_summary_of_whole_is_sum_of_parts():
    X, w = gaussian_data(n=1000, nan_every=7)
    whole = summarise(ArraySource(X, w, chunk_size=1000))
    parts = summarise(ArraySource(X, w, chunk_size=37))
    assert isinstance(whole, SourceSummary)
    assert (whole.n_samples, whole.n_missing, whole.first_missing) == (
        parts.n_samples,
        parts.n_missing,
        parts.first_missing,
    )
    assert whole.total_weight == pytest.approx(parts.total_weight, rel=1e-13)
    np.testing.assert_array_equal(whole.col_min, parts.col_min)
    np.testing.assert_array_equal(whole.observed, np.sum(~np.isnan(X), axis=0))


# -- Dask ---------------------------------------------------------------------------------------------------


def test_dask_without_a_client_uses_the_local_scheduler():
    da = pytest.importorskip("dask.array")
    X, _ = gaussian_data(n=1200)
    ref = fit_quiet(gm("diag"), X)
    assert_same_fit(fit_quiet(gm("diag"), da.from_array(X, chunks=(400, 3))), ref, GAUSS)


# (the tests above run before the module's cluster starts; those below use it)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("cov", ["full", "spherical"])
def test_dask_array_fit_equals_memory(client, cov):
    da = pytest.importorskip("dask.array")
    X, w = gaussian_data(nan_every=29)
    ref = fit_quiet(gm(cov), X, sample_weight=w)
    dX, dw = da.from_array(X, chunks=(800, 3)), da.from_array(w, chunks=500)  # misaligned: re-chunked
    got = fit_quiet(gm(cov), dX, sample_weight=dw)
    assert_same_fit(got, ref, GAUSS)
    labels = got.predict(dX)
    assert type(labels).__module__.startswith("dask")  # lazy: see tests/test_dask_lazy.py
    np.testing.assert_array_equal(labels.compute(), ref.predict(X))


def test_dask_dataframe_with_weights_column(client):
    dd = pytest.importorskip("dask.dataframe")
    X, w = gaussian_data()
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]).assign(w=w), npartitions=4)
    src = DaskSource(frame, weights="w")
    assert (src.n_samples, src.n_features, src.columns, src.n_blocks) == (3000, 3, ("a", "b", "c"), 4)
    ref = fit_quiet(gm("tied"), X, sample_weight=w)
    assert_same_fit(fit_quiet(gm("tied"), src), ref, GAUSS)


def test_dask_non_gaussian_family_and_errors(client):
    da = pytest.importorskip("dask.array")
    Y = poisson_data()
    ref = fit_quiet(emix.PoissonMixture(2, random_state=0, n_jobs=1), Y)
    got = fit_quiet(emix.PoissonMixture(2, random_state=0), da.from_array(Y, chunks=(700, 4)))
    assert_same_fit(got, ref, ("weights_", "rates_"))
    Y[2_500, 1] = 0.5
    with pytest.raises(emix.InvalidInputError, match=r"dask data: .*row 2500, column 1"):
        emix.PoissonMixture(2).fit(da.from_array(Y, chunks=(700, 4)))


def test_dask_pass_runs_on_the_workers(client):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, _ = gaussian_data()
    src = DaskSource(da.from_array(X, chunks=(1000, 3)))
    where = list(src.map_chunks(lambda X, w, off: (distributed.get_worker().address, off, X.shape[0])))
    assert [(o, m) for _, o, m in where] == [(0, 1000), (1000, 1000), (2000, 1000)]
    assert {a for a, _, _ in where} <= set(client.scheduler_info()["workers"])
    model = fit_quiet(gm("full", max_iter=2), X)
    family, params = model._make_family(), model._fitted_params()
    mem = e_pass(ArraySource(X, None, 1000), family, params, grouped=False)  # chunk by chunk
    dist = e_pass(src, family, params)
    assert dist.log_likelihood == mem.log_likelihood  # same chunks, same order: the same sum
    np.testing.assert_array_equal(dist.stats.nk, mem.stats.nk)


def test_import_emix_imports_no_dask_pandas_or_pyarrow():
    """The sources import Dask, distributed, pandas and pyarrow lazily: ``import emix`` loads none."""
    code = (
        "import sys, emix, emix.sources\n"
        "heavy = {'dask', 'distributed', 'pandas', 'pyarrow'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
