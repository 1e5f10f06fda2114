"""File sources read the next chunk on a background thread: one ahead at most, the same chunks, closed."""

import threading

import numpy as np
import pandas as pd
import pytest

import emix
from emix.exceptions import InvalidInputError
from emix.sources.readahead import read_ahead


class Recorder:
    """A generator of 0..n-1 that records how many items were started, on which threads, and its closing."""

    def __init__(self, n, fail_at=None):
        self.n, self.fail_at, self.started, self.threads, self.closed = n, fail_at, 0, set(), False
        self.second = threading.Event()

    def __iter__(self):
        try:
            for i in range(self.n):
                self.started += 1
                self.threads.add(threading.current_thread().name)
                if i == self.fail_at:
                    raise InvalidInputError(f"item {i} is bad")
                if i == 1:
                    self.second.set()
                yield i
        finally:
            self.closed = True


def test_the_next_item_is_read_while_the_caller_holds_the_current_one():
    rec = Recorder(5)
    it = read_ahead(iter(rec))
    assert next(it) == 0
    assert rec.second.wait(timeout=30)  # item 1 was made while item 0 is held
    assert rec.started == 2  # and nothing further: one item ahead at most
    assert list(it) == [1, 2, 3, 4] and rec.closed
    assert rec.threads and all(name.startswith("emix-read") for name in rec.threads)


def test_stopping_early_closes_the_reader_and_errors_come_at_their_item():
    rec = Recorder(100)
    for i in read_ahead(iter(rec)):
        if i == 3:
            break
    assert rec.closed and rec.started <= 5
    rec = Recorder(10, fail_at=4)
    got = []
    with pytest.raises(InvalidInputError, match="item 4 is bad"):
        for i in read_ahead(iter(rec)):
            got.append(i)
    assert got == [0, 1, 2, 3] and rec.closed


@pytest.mark.filterwarnings("ignore::emix.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["parquet", "csv", "npy"])
def test_file_chunks_are_the_rows_in_order_and_the_fit_is_the_in_memory_one(tmp_path, kind):
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(0, 1, (3000, 2)), rng.normal(4, 1, (2000, 2))])[rng.permutation(5000)]
    path = tmp_path / f"x.{kind}"
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    if kind == "parquet":
        frame.to_parquet(path, row_group_size=1400)
        source = emix.ParquetSource(path, batch_rows=700)
    elif kind == "csv":
        frame.to_csv(path, index=False, float_format="%.17g")
        source = emix.CSVSource(path, chunk_rows=700)
    else:
        np.save(path, X)
        source = emix.NpySource(path, chunk_rows=700)
    chunks = [c for c, _ in source.chunks()]
    assert [len(c) for c in chunks] == [700] * 7 + [100]
    np.testing.assert_array_equal(np.concatenate(chunks), X)
    kw = dict(random_state=0, init_params="random_from_data", tol=0, max_iter=15)
    streamed = emix.GaussianMixture(2, **kw).fit(source)
    memory = emix.GaussianMixture(2, **kw).fit(_SameChunks(X, None, 700))
    np.testing.assert_array_equal(streamed.means_, memory.means_)
    np.testing.assert_array_equal(streamed.covariances_, memory.covariances_)


class _SameChunks(emix.ArraySource):
    """The array in memory, summed chunk by chunk as a file source sums its chunks (a plain
    ``ArraySource`` takes the grouped in-memory pass, whose row groups differ from the chunks)."""
