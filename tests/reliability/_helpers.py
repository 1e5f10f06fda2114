"""What the catalogue's cases share: data, and the check that an error says problem, place and fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest


def blobs(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well-separated Gaussian clusters in 2-D, half the rows each, and their labels."""
    rng = np.random.default_rng(seed)
    half = n // 2
    X = np.r_[rng.normal(0.0, 1.0, (half, 2)), rng.normal(6.0, 1.0, (n - half, 2))]
    return X, np.r_[np.zeros(half, int), np.ones(n - half, int)]


def with_cell(X: np.ndarray, i: int, j: int, value: float) -> np.ndarray:
    """A copy of ``X`` with ``X[i, j] = value``."""
    out = np.array(X, dtype=np.float64, copy=True)
    out[i, j] = value
    return out


def check_error(call: Callable[[], Any], kind: type, patterns: Sequence[str]) -> BaseException:
    """Run ``call``; it must raise ``kind`` whose message matches every regex of ``patterns``.

    The patterns are the case's promise: the problem, where it is (row and
    column, component, file, member, byte) and one fix.
    """
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    missing = [p for p in patterns if not re.search(p, message)]
    assert not missing, f"message {message!r} lacks {missing}"
    assert "\n" not in message.strip(), f"message is not one line: {message!r}"
    return info.value


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings are the same partition (component numbers may differ)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))
