"""Small data sets bundled with emix."""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["load_faithful", "load_lecture_example", "FAITHFUL_COLUMNS"]

#: Column names of :func:`load_faithful`.
FAITHFUL_COLUMNS = ("eruptions", "waiting")


def load_faithful() -> np.ndarray:
    """Old Faithful geyser data (R's ``datasets::faithful``).

    Returns
    -------
    X : ndarray of shape (272, 2)
        Columns: eruption duration (minutes), waiting time to the next
        eruption (minutes).

    Notes
    -----
    mclust 6.1.3 selects the EEE (``tied``) model with 3 components for these
    data: log-likelihood -1126.315928 at convergence, BIC -2314.316 in
    mclust's sign (``2 log L - 11 log 272``).
    """
    with resources.files(__package__).joinpath("faithful.csv").open("r") as fh:
        return np.loadtxt(fh, delimiter=",", skiprows=1, dtype=np.float64)


def load_lecture_example(return_init: bool = False):
    """The six-point, two-cluster example used to teach EM by hand.

    Parameters
    ----------
    return_init : bool, default=False
        Also return the lecture's starting point as ``GaussianMixture``
        keyword arguments: weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0],
        identity covariances.

    Returns
    -------
    X : ndarray of shape (6, 2)
    init : dict, only if ``return_init``
        ``weights_init`` (2,), ``means_init`` (2, 2), ``precisions_init`` (2, 2, 2).
    """
    X = np.array([[1.0, 8.0], [2.5, 7.5], [2.0, 7.0], [8.5, 2.5], [9.0, 2.0], [8.0, 1.0]])
    if not return_init:
        return X
    init = {
        "weights_init": np.array([0.6, 0.4]),
        "means_init": np.array([[4.5, 2.5], [2.5, 5.0]]),
        "precisions_init": np.array([np.eye(2), np.eye(2)]),
    }
    return X, init
