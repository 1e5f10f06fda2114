"""Progress of a fit: messages through the ``emix`` logger while ``verbose`` is set."""

from __future__ import annotations

import contextlib
import logging
import sys
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
