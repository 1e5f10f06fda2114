"""Data generators shared by the tests."""

import zlib

import numpy as np


def make_blobs(n=300, d=2, k=3, sep=6.0, seed=0, offset=0.0):
    """Well-separated Gaussian blobs (test helper)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=sep, size=(k, d)) + offset
    labels = rng.integers(0, k, size=n)
    X = centres[labels] + rng.normal(size=(n, d))
    return X, labels


def check_png(path, min_size=(300, 200)):
    """A real picture: a PNG file of some size, at least ``min_size`` pixels, neither blank nor grey.

    Returns its pixels, shape (height, width, 3), as int16.
    """
    from PIL import Image

    assert path.exists() and path.stat().st_size > 3000
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size[0] >= min_size[0] and im.size[1] >= min_size[1]
        px = np.asarray(im.convert("RGB"), dtype=np.int16)
    # non-blank: a good share of pixels differ from white, and colour is present
    non_white = (px < 245).any(axis=2).mean()
    assert non_white > 0.02
    saturation = (px.max(axis=2) - px.min(axis=2)) > 60
    assert saturation.mean() > 0.002
    return px


def stable_seed(*parts) -> int:
    """A seed from a test's parameters that is the same in every process (``hash()`` of a
    string is salted per process, so a failure it finds may not come back)."""
    return zlib.crc32(repr(parts).encode())
