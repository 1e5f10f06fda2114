"""The random starts: ``random`` (uniform random responsibilities) and ``random_from_data`` (random rows as centres)."""

from __future__ import annotations

import numpy as np

from .base import Initialiser, nearest_initialiser, reference_point
from .sampling import row_uniforms, streaming_choice


def random_initialiser(source, n_components: int, rng: np.random.Generator) -> Initialiser:
    """Uniform random responsibilities, normalised per row (``init_params='random'``).

    Row ``i``'s numbers come from a counter-based stream (:func:`row_uniforms`),
    so the responsibilities do not depend on the chunking. The centres, which
    only anchor the statistics, are all the reference point.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator
        Gives the seed of the stream.

    Returns
    -------
    Initialiser
        Responsibilities of shape (n, n_components) in the chunk's dtype;
        centres of shape (n_components, D).
    """
    shift = reference_point(source)
    k = n_components
    seed = int(rng.integers(0, 2**63 - 1))

    def resp_fn(X: np.ndarray, offset: int) -> np.ndarray:
        resp = row_uniforms(seed, offset, X.shape[0], k)
        resp /= resp.sum(axis=1, keepdims=True)
        return resp.astype(X.dtype, copy=False)

    return Initialiser(resp_fn=resp_fn, centres=np.tile(shift, (k, 1)))


def _uniform(X: np.ndarray, w) -> np.ndarray:
    """Weight one for every row (sample weights are not used)."""
    return np.ones(X.shape[0])


def random_from_data_initialiser(source, n_components: int, rng: np.random.Generator) -> Initialiser:
    """Random rows as centres, hard assignment to the nearest (``init_params='random_from_data'``).

    The K rows are drawn uniformly in one pass (independent draws); duplicated
    centres are redrawn, one pass per round (up to ten rounds), so that the
    centres are distinct where possible.

    Parameters
    ----------
    source : a source (see :mod:`emix.sources`)
    n_components : int
    rng : numpy.random.Generator

    Returns
    -------
    Initialiser
        Centres of shape (n_components, D).
    """
    k = n_components
    centres = streaming_choice(source, rng, _uniform, size=k)
    # distinct rows where possible: redraw duplicates a few times
    for _ in range(10):
        _, first = np.unique(centres, axis=0, return_index=True)
        dup = np.setdiff1d(np.arange(k), first)
        if dup.size == 0:
            break
        centres[dup] = streaming_choice(source, rng, _uniform, size=dup.size)
    return nearest_initialiser(source, centres)
