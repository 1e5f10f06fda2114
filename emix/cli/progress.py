"""The progress bars of ``emix fit``: EM passes (pass, rows per second, time left) and online epochs.

Both draw on stderr, transient, through Rich, and only when asked (``--progress``,
or by default when stderr is a terminal). The EM bar is fed by ``fit``'s
``progress=`` callback (``emix.estimators.progress.FitProgress``); the
online bar by the command, once per batch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from .console import err


def _bar(*columns: Any):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.fields[what]}[/]"),
        BarColumn(),
        *columns,
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )


def _rate(rows_per_second: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rows_per_second >= scale:
            return f"{rows_per_second / scale:.3g}{unit} rows/s"
    return f"{rows_per_second:.3g} rows/s"


def _seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@contextlib.contextmanager
def fit_progress(show: bool, max_iter: int, n_init: int) -> Iterator[Callable[[Any], None] | None]:
    """A transient bar of EM's passes while the block fits.

    Parameters
    ----------
    show : bool
        Whether to draw it at all.
    max_iter : int
        The bar's length: passes per initialisation.
    n_init : int
        Initialisations, for the ``init i/n`` label.

    Yields
    ------
    callable or None
        ``fit``'s ``progress=`` callback (``None`` when not shown): the bar
        shows the pass, the log-likelihood, rows per second and the time left
        at most (EM usually stops before ``max_iter``).
    """
    if not show:
        yield None
        return
    from rich.progress import TextColumn

    bar = _bar(
        TextColumn("pass {task.completed}/{task.total}"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("log-likelihood {task.fields[ll]}"),
        TextColumn("{task.fields[left]}"),
    )
    task = bar.add_task("fit", total=max_iter, what="EM", rate="", ll="", left="")

    def on_progress(p: Any) -> None:
        label = f"EM init {p.restart + 1}/{n_init}" if n_init > 1 else "EM"
        left = f"<= {_seconds(p.seconds_left)} left" if p.iteration < p.max_iter else ""
        bar.update(
            task,
            completed=p.iteration,
            what=label,
            rate=_rate(p.rows_per_second),
            ll=f"{p.log_likelihood:.6f}",
            left=left,
        )

    with bar:
        yield on_progress


@contextlib.contextmanager
def online_progress(show: bool, total_rows: int, epochs: int) -> Iterator[Callable[[int, int, float], None]]:
    """A transient bar of online EM's epochs while the block fits.

    Parameters
    ----------
    show : bool
    total_rows : int
        Rows per epoch.
    epochs : int

    Yields
    ------
    callable
        ``step(epoch, rows, log_likelihood_per_row)`` after each batch (a no-op when not shown).
    """
    if not show:
        yield lambda epoch, rows, ll: None
        return
    from rich.progress import TextColumn, TimeRemainingColumn

    bar = _bar(
        TextColumn("{task.fields[rate]}"),
        TextColumn("batch log-likelihood {task.fields[ll]}"),
        TimeRemainingColumn(),
    )
    task = bar.add_task("online", total=total_rows * epochs, what="online EM", rate="", ll="")
    start = time.perf_counter()
    done = {"rows": 0}

    def step(epoch: int, rows: int, ll: float) -> None:
        done["rows"] += rows
        rate = done["rows"] / max(time.perf_counter() - start, 1e-9)
        bar.update(
            task, advance=rows, what=f"online EM epoch {epoch + 1}/{epochs}", rate=_rate(rate), ll=f"{ll:.6f}"
        )

    with bar:
        yield step
