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
