"""Data generators shared by the tests."""

import numpy as np


def make_blobs(n=300, d=2, k=3, sep=6.0, seed=0, offset=0.0):
    """Well-separated Gaussian blobs (test helper)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=sep, size=(k, d)) + offset
    labels = rng.integers(0, k, size=n)
    X = centres[labels] + rng.normal(size=(n, d))
    return X, labels
