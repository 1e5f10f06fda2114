"""Docstring blocks shared by the estimators, written once.

Each estimator's docstring is assembled from its own parameters and these
blocks (see :func:`assemble`), so a shared parameter is described in one place.
"""

from __future__ import annotations

COMMON_PARAMETERS = """
    tol : float, default=1e-3
        Stop when the mean log-likelihood per sample changes by less than this.
    max_iter : int, default=100
        Maximum EM iterations per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the initial responsibilities are chosen (k-means runs on the raw
        columns; the initial parameters are the M-step of those responsibilities).
    weights_init : array-like of shape (K,), optional
        Initial mixing weights (uniform when only component parameters are given).
    random_state : int, RandomState, Generator or None
    warm_start : bool, default=False
        Start from the previous fit's parameters (with ``n_init=1``).
    verbose : int, default=0
    verbose_interval : int, default=10
    chunk_size : int or None, default=None
        Rows per chunk in every pass; the result does not depend on it.
    convergence : {'aitken', 'sklearn'}, default='aitken'
        Stopping rule, as in :class:`~emix.GaussianMixture` (see docs/speed.md).
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule.
    accelerate : bool, default=True
        SQUAREM acceleration where the family supports it (plain EM otherwise).
    n_jobs : int or None, default=None
        Threads for the passes over the data (``None``: all cores).
    online_step : float, default=0.7
        The exponent ``alpha`` of online EM's step size ``(t + 2)^(-alpha)``
        (:meth:`partial_fit`), in ``(0.5, 1]``. At 1 the running statistics
        are the plain average of every batch's; smaller values forget the
        early batches (computed at poorer parameters) sooner and follow data
        that drift. Not used by ``fit``. See ``docs/large-data.md``.
    checkpoint : str, path-like or None, default=None
        A file where ``fit`` saves its state at every iteration boundary and
        after every restart (atomically; a ZIP of JSON and ``.npy``, never a
        pickle), and from which it resumes when the file exists: a fit killed
        at any moment and run again ends with the same parameters, bit for
        bit for the same chunks. A checkpoint of other data or settings
        raises :class:`~emix.exceptions.CheckpointMismatchError`; a finished
        fit's checkpoint gives its result at once. See ``docs/large-data.md``.
"""

COMMON_ATTRIBUTES = """
    weights_ : ndarray of shape (K,)
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample of the final parameters.
    log_likelihood_ : float
        Total log-likelihood of the final parameters.
    history_ : ndarray of shape (n_iter_ + 1,)
        Total log-likelihood at the start of every iteration, then of the
        final parameters; it never decreases when the M-step is exact (zero
        pseudo-count / ``reg_covar``).
    n_features_in_ : int
"""


def assemble(summary: str, parameters: str, attributes: str) -> str:
    """A numpydoc docstring: ``summary``, then the estimator's own ``parameters`` followed by the
    common ones, then its own ``attributes`` followed by the common ones."""
    return (
        summary.rstrip()
        + "\n\n    Parameters\n    ----------"
        + parameters.rstrip()
        + COMMON_PARAMETERS.rstrip()
        + "\n\n    Attributes\n    ----------"
        + attributes.rstrip()
        + COMMON_ATTRIBUTES.rstrip()
        + "\n"
    )
