"""Docstring blocks shared by the estimators, written once.

Each estimator's docstring is assembled from its own parameters and these
blocks (see :func:`assemble`), so a shared parameter is described in one place.
"""

from __future__ import annotations

COMMON_PARAMETERS = """
    tol : float, default=1e-3
        Bound on the gain in mean log-likelihood per sample left when EM
        stops, under either rule: ``convergence='sklearn'`` stops when the last
        change per sample is below ``tol``; ``'aitken'`` when the last change
        plus Aitken's estimate of the gain still to come, per sample, is below
        ``tol`` and the ``rtol`` test holds (at the default ``tol``, ``rtol``
        is the stricter). ``tol=0``: exactly ``max_iter`` iterations.
    max_iter : int, default=100
        Maximum passes over the data per initialisation (the final pass at the
        returned parameters not counted). Without acceleration a pass is one EM
        iteration, as in scikit-learn; with ``accelerate=True`` a SQUAREM cycle
        costs two passes and a rejected extrapolation one more, so ``max_iter``
        bounds the work (every pass costs about the same), not the EM steps.
    n_init : int, default=1
        Number of initialisations; the one with the highest log-likelihood is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'trimmed-kmeans'} or tuple, default='kmeans'
        How the initial responsibilities are chosen (k-means runs on the raw
        columns; the initial parameters are the M-step of those responsibilities).
        ``'trimmed-kmeans'`` leaves out the 10 % of (sampled) rows farthest from
        their centres, so a clump of outliers gets no component. A tuple of
        names runs EM from each of them at every restart and keeps the most likely fit.
    weights_init : array-like of shape (K,), optional
        Initial mixing weights (uniform when only component parameters are given).
    equal_weights : bool, default=False
        Keep every mixing weight at ``1 / K`` (mclust's ``equalPro``): the
        weights are not estimated, and ``bic`` / ``aic`` count ``K - 1``
        fewer parameters. ``weights_init`` then only affects the first E-step.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initialisation and :meth:`sample`; an int gives the same fit
        on every call.
    warm_start : bool, default=False
        Start from the previous fit's parameters (with ``n_init=1``); the
        stopping rule sees the previous fit's iterations continued.
    verbose : int, default=0
        Log the log-likelihood every ``verbose_interval`` iterations through
        the ``emix`` logger (on stderr when it has no handler).
    verbose_interval : int, default=10
        Iterations between progress messages.
    chunk_size : int or None, default=None
        Rows per chunk in every pass; the result does not depend on it.
    convergence : {'aitken', 'sklearn'}, default='aitken'
        Stopping rule, as in :class:`~emix.GaussianMixture` (see docs/speed.md).
    rtol : float, default=1e-8
        Relative tolerance of the ``'aitken'`` rule: raise it to stop sooner
        under that rule (unused by ``'sklearn'``).
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
        fit's checkpoint gives its result at once. ``partial_fit`` saves its
        online state there after a batch (at most once a second) and a new
        estimator resumes from it, replaying the batches it saw (checked by
        hash). See ``docs/large-data.md``.
    strict : bool, default=False
        Raise :class:`~emix.exceptions.DiagnosticsError` at the end of ``fit``
        instead of warning when the fit repaired an M-step, kept a degenerate
        or duplicate component, lost a restart or has ``reg_covar`` swamping a
        feature (see ``diagnostics_``). Not converging stays a
        :class:`~emix.exceptions.ConvergenceWarning`.
"""

COMMON_ATTRIBUTES = """
    weights_ : ndarray of shape (K,)
        float32 when the family's fitted arrays are (float32 data), else float64.
    converged_ : bool
        Whether the stopping rule was met before ``max_iter`` in the kept fit.
    n_iter_ : int
        Passes over the data of the kept fit, counted as ``max_iter`` counts
        them (rejected extrapolations included, the final pass not): EM
        iterations when ``accelerate=False``.
    lower_bound_ : float
        Mean log-likelihood per sample of the final parameters.
    lower_bounds_ : ndarray of shape (n_entries - 1,)
        scikit-learn's per-iteration values: the mean log-likelihood at the
        start of every iteration, ``history_[:-1] / n_samples``.
    log_likelihood_ : float
        Total log-likelihood of the final parameters.
    history_ : ndarray of shape (n_entries,)
        Total log-likelihood at the start of every iteration, then of the
        final parameters; it never decreases when the M-step is exact (zero
        pseudo-count / ``reg_covar``). ``n_entries == n_iter_ + 1`` unless
        extrapolations were rejected.
    n_features_in_ : int
        Number of features seen during ``fit``.
    diagnostics_ : Diagnostics
        What the fit found (:class:`~emix.Diagnostics`): repairs (component,
        iteration, what was done), inexact M-steps, degenerate and duplicate
        components, failed restarts, features swamped by ``reg_covar``;
        ``str()`` summarises it.
    feature_names_in_ : ndarray of object of shape (n_features,)
        Column names of the data frame given to ``fit``, when all strings
        (absent otherwise); later calls check a data frame's columns against them.
"""


def _entries(block: str) -> list[tuple[str, str]]:
    """The ``(name, text)`` entries of a numpydoc parameter block (entries start at 4 spaces)."""
    out: list[tuple[str, str]] = []
    for line in block.strip("\n").split("\n"):
        if line.startswith("    ") and not line.startswith("     ") and " : " in line:
            out.append((line.split(" : ")[0].strip(), line + "\n"))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + line + "\n")
    return out


def assemble(summary: str, parameters: str, attributes: str, examples: str = "") -> str:
    """A numpydoc docstring: ``summary``, then the estimator's own ``parameters`` followed by the
    common ones (those it describes itself left out: another default), then its own ``attributes``
    followed by the common ones, then ``examples`` (the text of an Examples section, indented as
    the rest) when given."""
    own = {name for name, _ in _entries(parameters)}
    common = "".join(text for name, text in _entries(COMMON_PARAMETERS) if name not in own)
    text = (
        summary.rstrip()
        + "\n\n    Parameters\n    ----------"
        + parameters.rstrip()
        + "\n"
        + common.rstrip()
        + "\n\n    Attributes\n    ----------"
        + attributes.rstrip()
        + COMMON_ATTRIBUTES.rstrip()
    )
    if examples.strip():
        text += "\n\n    Examples\n    --------" + examples.rstrip()
    return text + "\n"
