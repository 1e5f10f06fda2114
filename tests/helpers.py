"""Data generators and checks shared by the tests."""

import warnings
import zlib

import numpy as np
import pytest


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


def assert_same_start_fit_as_sklearn(X, k, cov="full", iters=8):
    """``iters`` plain iterations of emix and scikit-learn from scikit-learn's one-iteration
    start agree: the log-likelihood and the scores to 1e-12 relative in float64 (1e-5 in
    float32, where both compute the products in float32), the means to 1e-12 (1e-4) and
    the covariances to 1e-11 (1e-4)."""
    sk = pytest.importorskip("sklearn.mixture")
    from emix.estimators.gaussian import GaussianMixture

    tight = X.dtype == np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = sk.GaussianMixture(k, covariance_type=cov, max_iter=1, random_state=0).fit(X)
    init = dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)
    ref = sk.GaussianMixture(k, covariance_type=cov, tol=0, max_iter=iters, **init)
    em = GaussianMixture(k, covariance_type=cov, tol=0, max_iter=iters, accelerate=False, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X)
        em.fit(X)
    assert em.n_iter_ == ref.n_iter_ == iters
    assert em.history_[-2] == pytest.approx(ref.lower_bound_ * X.shape[0], rel=1e-12 if tight else 1e-5)
    np.testing.assert_allclose(
        em.means_, ref.means_, rtol=1e-12 if tight else 1e-4, atol=1e-12 if tight else 1e-4
    )
    np.testing.assert_allclose(
        em.covariances_, ref.covariances_, rtol=1e-11 if tight else 1e-4, atol=1e-12 if tight else 1e-4
    )
    np.testing.assert_allclose(em.score_samples(X), ref.score_samples(X), rtol=1e-12 if tight else 1e-5)
