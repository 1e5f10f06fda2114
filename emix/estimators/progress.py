"""Progress of a fit: messages through the ``emix`` logger while ``verbose`` is set, and the
``progress=`` callback of ``fit`` (:class:`FitProgress`, :func:`reporter`)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger("emix")


def logging_callback(attempt: int, verbose: int, interval: int) -> Callable[[int, float, Any], None] | None:
    """A ``callback(iteration, log_likelihood, params)`` for the EM driver that logs every
    ``interval`` iterations of restart ``attempt`` (``None`` when not ``verbose``)."""
    if not verbose:
        return None
    interval = int(interval)

    def cb(it: int, ll: float, params: Any) -> None:
        if it % interval == 0:
            logger.info("init %d, iteration %d: log-likelihood %.10g", attempt + 1, it, ll)

    return cb


@contextlib.contextmanager
def verbose_logging(verbose: int) -> Iterator[None]:
    """Show the ``emix`` logger's INFO messages on stderr while ``verbose`` is set."""
    if not verbose or logger.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("emix: %(message)s"))
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def not_converged_message(
    n_init: int, max_iter: int, rule: str, tol: float, rtol: float, mean_loglik: float
) -> str:
    """The :class:`~emix.exceptions.ConvergenceWarning`'s text: scikit-learn's sentence (code
    filtering on it still works), then which parameter loosens the stopping rule in use.

    Parameters
    ----------
    n_init, max_iter : int
        As given to the estimator.
    rule : {'aitken', 'sklearn'}
        The stopping rule.
    tol, rtol : float
        The rule's tolerances.
    mean_loglik : float
        Mean log-likelihood per sample of the kept fit, which sets the scale of
        ``rtol`` under ``'aitken'``.
    """
    binding = "tol"
    if rule == "aitken" and tol > rtol * max(abs(mean_loglik), 1.0):
        binding = "rtol"  # the relative test is the stricter one: loosening tol would not help
    value = tol if binding == "tol" else rtol
    why = f": tol={tol:g} is already looser than the rtol test of this rule" if binding == "rtol" else ""
    return (
        "Best performing initialization did not converge. Try different init parameters, or "
        "increase max_iter, tol, or check for degenerate data. "
        f"(emix: the best of {n_init} initialisation(s) did not converge in max_iter={max_iter} "
        f"iterations under convergence={rule!r}; raise max_iter, or {binding} (now {value:g}) to "
        f"stop sooner{why})"
    )


@dataclasses.dataclass(frozen=True)
class FitProgress:
    """What ``fit(..., progress=callable)`` passes to the callable after every EM iteration.

    Attributes
    ----------
    restart : int
        The initialisation running, from 0.
    n_restarts : int
        ``n_init`` (1 with ``warm_start``).
    iteration : int
        Passes over the data made in this restart (a SQUAREM cycle makes two
        per iteration, a rejected extrapolation one more).
    max_iter : int
    log_likelihood : float
        Total log-likelihood of the last pass.
    rows_per_second : float
        Rows read per second over the passes since the previous report.
    elapsed : float
        Seconds since this restart's EM began (its initialisation not counted).
    seconds_left : float
        At most this many seconds are left in this restart: the passes still
        allowed by ``max_iter`` at the mean time per pass so far (EM usually
        stops sooner, by its convergence rule).
    """

    restart: int
    n_restarts: int
    iteration: int
    max_iter: int
    log_likelihood: float
    rows_per_second: float
    elapsed: float
    seconds_left: float


def reporter(
    progress: Callable[[FitProgress], Any] | None, restart: int, n_restarts: int, max_iter: int, n_rows: int
) -> Callable[[int, float, Any], None] | None:
    """A driver ``callback(iteration, log_likelihood, params)`` that calls ``progress(FitProgress)``.

    Parameters
    ----------
    progress : callable or None
        The user's callable; ``None`` gives ``None`` (nothing to report).
    restart, n_restarts, max_iter : int
        As in :class:`FitProgress`.
    n_rows : int
        Rows per pass.
    """
    if progress is None:
        return None
    if not callable(progress):
        from ..exceptions import InvalidParameterError

        raise InvalidParameterError(f"progress must be a callable or None, got {progress!r}")
    start = time.perf_counter()
    last = {"time": start, "passes": 0}

    def cb(it: int, ll: float, params: Any) -> None:
        now = time.perf_counter()
        passes, seconds = it - last["passes"], max(now - last["time"], 1e-9)
        last.update(time=now, passes=it)
        elapsed = now - start
        left = max(max_iter - it, 0) * elapsed / max(it, 1)
        progress(FitProgress(restart, n_restarts, it, max_iter, ll, passes * n_rows / seconds, elapsed, left))

    return cb


def chain(*callbacks: Callable[[int, float, Any], None] | None) -> Callable[[int, float, Any], None] | None:
    """One driver callback calling each of ``callbacks`` that is not ``None`` (``None`` if none is)."""
    live = [c for c in callbacks if c is not None]
    if len(live) <= 1:
        return live[0] if live else None

    def cb(it: int, ll: float, params: Any) -> None:
        for c in live:
            c(it, ll, params)

    return cb
