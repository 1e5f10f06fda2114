"""Reading the next chunk while the current one computes: :func:`read_ahead`.

File sources spend much of a pass decoding (pyarrow, pandas' CSV parser,
page faults of a memory map), and those release the GIL; a background thread
that reads the next chunk while the caller works on the current one hides
that time behind the E-step. At most one chunk is read ahead, and the chunks
are the same, in the same order, as without it: a fit's results are
unchanged, bit for bit. (Memory still does not grow with the file, though
a Parquet fit's peak was measured about 75 MiB higher with it:
``docs/benchmarks.md``.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each next one read on a background thread while the caller holds the current one.

    Parameters
    ----------
    items : iterator
        A generator (it is closed, on the calling thread, when the caller
        stops early), e.g. a file source's chunks.

    Yields
    ------
    item
        The items of ``items``, in order. An exception raised while reading
        is raised here, at the item it replaced.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emix-read") as executor:
        future = executor.submit(next, items, _END)
        try:
            while True:
                item = future.result()
                if item is _END:
                    return
                future = executor.submit(next, items, _END)  # the next chunk, while this one computes
                yield item
        finally:
            # the caller stopped (or a read failed): let the read in flight end, then close the reader here
            with contextlib.suppress(Exception):
                future.result()
            close = getattr(items, "close", None)
            if close is not None:
                close()
