"""The progress bar of ``emix fit``: the engine's per-iteration log records drawn on stderr."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from .console import err


class ProgressHandler(logging.Handler):
    """Feeds the engine's per-iteration log records ("iteration %d: log-likelihood %g") to a callback.

    Parameters
    ----------
    on_iteration : callable
        Called with the iteration number and the log-likelihood.
    """

    def __init__(self, on_iteration: Callable[[int, float], None]) -> None:
        super().__init__(logging.INFO)
        self.on_iteration = on_iteration

    def emit(self, record: logging.LogRecord) -> None:
        """Pass an iteration record on; ignore the others."""
        args = record.args
        if record.msg.startswith("iteration") and isinstance(args, tuple) and len(args) == 2:
            self.on_iteration(int(args[0]), float(args[1]))


@contextlib.contextmanager
def fit_progress(show: bool, max_iter: int, n_init: int) -> Iterator[None]:
    """Draw a transient progress bar on stderr while the block fits.

    Parameters
    ----------
    show : bool
        Whether to draw it at all.
    max_iter : int
        The bar's length: EM iterations per initialisation.
    n_init : int
        Initialisations, for the ``init i/n`` label.

    Yields
    ------
    None
        While the ``emix`` logger's records feed the bar (they do not reach other handlers).
    """
    if not show:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]EM[/] {task.fields[run]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("log-likelihood {task.fields[ll]}"),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )
    state = {"start": 1, "last": 0}
    task = progress.add_task("fit", total=max_iter, run="", ll="")

    def on_iteration(it: int, ll: float) -> None:
        if it <= state["last"]:  # a new initialisation started
            state["start"] += 1
        state["last"] = it
        label = f"init {state['start']}/{n_init}" if n_init > 1 else ""
        progress.update(task, completed=it, ll=f"{ll:.6f}", run=label)

    logger = logging.getLogger("emix")
    handler = ProgressHandler(on_iteration)
    old_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    old_propagate = logger.propagate
    logger.propagate = False
    try:
        with progress:
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
