"""The long fits of ``emix fit``: ``--online``, ``--checkpoint`` and Ctrl-C, ``--scheduler``.

``--online``
    Online EM over a file larger than memory: ``--epochs`` passes over the
    file, one ``partial_fit`` per chunk of ``--batch-rows`` rows, in file order
    (shuffle the rows when writing the file if it is sorted).
``--checkpoint PATH``
    The fit saves its state there at every iteration (with ``--online``: after
    a batch, at most every second) and resumes from it when it exists. Without it the fit still saves one, beside the model
    (``OUTPUT.checkpoint``), which is removed once the fit ends; Ctrl-C keeps
    it and prints the command that resumes the fit.
``--scheduler ADDRESS``
    The passes run on that Dask cluster: the file is read there (every
    worker must see the path) into a Dask dataframe.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ..exceptions import EmixError
from .errors import Failure
from .progress import online_progress

#: How long ``--scheduler`` waits for the scheduler to answer.
CONNECT_TIMEOUT = "10s"

OnlineOpt = Annotated[
    bool,
    typer.Option(
        "--online",
        help="Online EM: --epochs passes over the file, an M-step after every batch of "
        "--batch-rows rows; for files larger than memory (CSV, Parquet, .npy, a folder or a glob).",
    ),
]
EpochsOpt = Annotated[int, typer.Option("--epochs", min=1, help="With --online: passes over the data.")]
BatchRowsOpt = Annotated[int, typer.Option("--batch-rows", min=1, help="With --online: rows per batch.")]
CheckpointOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Save the fit's state to this file at every iteration, and resume from it if it exists.",
        show_default=False,
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run the passes on this Dask scheduler (e.g. tcp://host:8786); the workers read the file.",
        show_default=False,
    ),
]


def checkpoint_file(output: Path, given: Path | None) -> tuple[Path, bool]:
    """The checkpoint of a batch fit, and whether it is the command's own (removed at the end).

    Without ``--checkpoint`` the command keeps one beside the output, so that
    Ctrl-C can save the fit; an old one left there is of an earlier fit and
    is removed first.
    """
    if given is not None:
        return given, False
    own = output.with_name(output.name + ".checkpoint")
    own.unlink(missing_ok=True)
    return own, True


def resume_command(path: Path) -> str:
    """The command line that resumes this fit: this one, with ``--checkpoint PATH``."""
    args = sys.argv[1:]
    if not any(a == "--checkpoint" or a.startswith("--checkpoint=") for a in args):
        args = [*args, "--checkpoint", str(path)]
    return shlex.join(["emix", *args])


@contextlib.contextmanager
def saved_on_interrupt(path: Path, own: bool) -> Iterator[None]:
    """On Ctrl-C, say where the fit's state is and how to resume (exit status 130).

    The state is already there: the fit writes it at every iteration boundary.
    The command's own checkpoint is removed when the block ends otherwise.
    """
    try:
        yield
    except KeyboardInterrupt:
        if not path.exists():
            raise
        sys.stderr.write(
            f"emix: interrupted; the fit's state is saved in {path}. Resume with:\n  {resume_command(path)}\n"
        )
        sys.stderr.flush()
        raise typer.Exit(130) from None
    if own:
        path.unlink(missing_ok=True)


def check_online(*, standardize: bool, labels: Any, plot: Any, animate: Any, stream: Any) -> None:
    """Refuse, with ``--online``, the options that need the data in memory or a batch fit.

    Raises
    ------
    Failure
        Naming the first such option given.
    """
    given = [
        flag
        for flag, on in (
            ("--standardize", standardize),
            ("--labels", labels is not None),
            ("--plot", plot is not None),
            ("--animate", animate is not None),
            ("--no-stream", stream is False),
        )
        if on
    ]
    if given:
        raise Failure(f"{given[0]} cannot be used with --online (online EM reads the file in batches)")


def fit_epochs(model: Any, source: Any, epochs: int, show: bool) -> None:
    """``epochs`` passes of online EM over ``source``: one ``partial_fit`` per chunk, with a bar.

    Raises
    ------
    EmixError
        As ``partial_fit`` does, the row named in terms of the whole file.
    """
    n = int(source.n_samples)
    with online_progress(show, n, epochs) as step:
        for epoch in range(epochs):
            offset = 0
            for X, w in source.chunks():
                try:
                    model.partial_fit(X, sample_weight=w)
                except EmixError as exc:
                    relocate = getattr(source, "relocate", None)
                    raise type(exc)(str(exc) if relocate is None else relocate(str(exc), offset)) from None
                offset += X.shape[0]
                step(epoch, X.shape[0], model.lower_bound_)
    model._online_save()  # the checkpoint holds the finished run: running the command again is quick


class _WeightedLogLikelihood:
    """``sum(w * log p(x))`` of one chunk under a fitted model (picklable, for a cluster's workers)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, X: Any, w: Any, offset: int) -> float:
        logp = self.model.score_samples(X)
        return float(logp.sum() if w is None else w @ logp)


def streamed_log_likelihood(model: Any, source: Any) -> tuple[float, float]:
    """The total log-likelihood of ``source`` under ``model``, weighted by its weights, and the weight.

    What the in-memory path reports (:func:`~emix.cli.summary.criteria`):
    with a weights column, the weighted sum (what the fit maximised), and the
    sum of the weights as BIC's sample size; without, the plain sum and the
    number of rows. One pass over the source, where its chunks live.

    Returns
    -------
    ll : float
        Total (weighted) log-likelihood.
    n : float
        Sum of the weights (the number of rows when unweighted).
    """
    from ..sources import checked_map

    if getattr(source, "weights", None) is None:
        return model.score(source) * source.n_samples, float(source.n_samples)
    return float(sum(checked_map(source, _WeightedLogLikelihood(model)))), float(source.total_weight)


@contextlib.contextmanager
def on_scheduler(address: str | None) -> Iterator[None]:
    """While the block runs, a ``distributed.Client`` of ``address`` is the default client (the fit
    uses it); closed after. Nothing without an address.

    Raises
    ------
    Failure
        When the scheduler cannot be reached.
    """
    if address is None:
        yield
        return
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - part of the dask extra
        raise Failure(f"--scheduler needs dask and distributed: {exc}") from None
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise Failure(f"--scheduler {address}: cannot connect ({exc})") from None
    with client:
        yield


def dask_source(data: Path, columns: list[str] | None, weights: str | None) -> Any:
    """The file as a Dask dataframe read by the workers, in a ``DaskSource`` (see :func:`on_scheduler`).

    Raises
    ------
    Failure
        For a file kind other than CSV, TSV and Parquet.
    """
    import dask.dataframe as dd

    from ..sources import DaskSource
    from ..sources.tables import table_format

    kind = table_format(data)
    wanted = None if columns is None else [*columns, *([weights] if weights else [])]
    if kind == "parquet":
        frame = dd.read_parquet(str(data), columns=wanted)
    elif kind in ("csv", "tsv"):
        frame = dd.read_csv(str(data), sep="\t" if kind == "tsv" else ",")
        frame = frame if wanted is None else frame[wanted]
    else:
        raise Failure(f"{data}: --scheduler reads CSV, TSV and Parquet files, not {kind}")
    return DaskSource(frame, weights=weights)
