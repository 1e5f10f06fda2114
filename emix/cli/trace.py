"""``emix trace``: EM one step at a time, every E-step and M-step shown."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from .console import err, out
from .errors import Failure
from .options import ColumnsOpt, Covariance, CovarianceOpt, HeaderOpt, parse_columns

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix trace                        # the lecture example\n\n"
    "  emix trace --iterations 5 --plot staircase.png\n\n"
    "  emix trace small.csv -k 3 --seed 1\n\n"
    "  emix trace --format json > trace.json"
)


class TraceFormat(str, enum.Enum):
    """The values of ``--format``."""

    text = "text"
    json = "json"


def trace(
    data: Annotated[
        Path | None,
        typer.Argument(help="A small data file (default: the lecture example).", show_default=False),
    ] = None,
    n_components: Annotated[
        int | None, typer.Option("-k", "--n-components", help="K (needed with DATA).")
    ] = None,
    iterations: Annotated[int, typer.Option("--iterations", "-i", help="E/M pairs to show.", min=1)] = 3,
    covariance: CovarianceOpt = Covariance["full"],
    columns: ColumnsOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the k-means start (with DATA).")] = 0,
    header: HeaderOpt = True,
    fmt: Annotated[
        TraceFormat, typer.Option("--format", help="text for people, json for programs.")
    ] = TraceFormat.text,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the E/M staircase (PNG).")] = None,
) -> None:
    """Run EM one step at a time and show every E-step and M-step.

    Without DATA it reproduces the lecture example: 6 points, K=2, start
    weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0], identity covariances,
    reg_covar=0. After each E-step it shows the responsibilities, after each
    M-step the new weights, means and covariances, and for both the
    log-likelihood ln p(X|θ), the lower bound L(q,θ) and KL(q‖p(z|X,θ)):
    the E-step makes KL zero, the M-step raises the bound.
    """
    from ..teach.trace import trace_em, trace_lecture_example

    if data is None:
        if n_components not in (None, 2) or columns is not None:
            raise Failure("-k and --columns go with DATA; the lecture example has K=2")
        if covariance is not Covariance["full"]:
            raise Failure("the lecture example uses full covariances; give DATA to try others")
        tr = trace_lecture_example(iterations)
    else:
        if n_components is None:
            raise Failure("give the number of components with -k when tracing DATA")
        from ..sources.tables import read_table

        table = read_table(data, parse_columns(columns), header=header)
        tr = trace_em(
            table.X, n_components, n_iter=iterations, covariance_type=covariance.value, random_state=seed
        )
    if fmt is TraceFormat.json:
        sys.stdout.write(json.dumps(tr.to_dict(), indent=1) + "\n")
    else:
        _print_trace(tr, out())
    if plot is not None:
        from ..teach.plot import plot_trace, save_figure

        save_figure(plot_trace(tr), plot)
        (err() if fmt is TraceFormat.json else out()).print(f"picture written to {plot}")


def _prob(q: float) -> str:
    """A responsibility, readable near 0 and 1: ``0.250000``, ``3.142e-07``, ``1 - 2.00e-09``."""
    return (
        f"{q:.6f}"
        if q in (0.0, 1.0) or 1e-4 <= q <= 1 - 1e-4
        else f"{q:.3e}"
        if q < 0.5
        else f"1 - {1 - q:.2e}"
    )


def _matrix(m: np.ndarray) -> str:
    """A matrix on one line: ``[1.0000 0.0000; 0.0000 1.0000]``."""
    return "[" + "; ".join(" ".join(f"{v:.4f}" for v in row) for row in m) + "]"


def _numbers(s: Any) -> str:
    """The three quantities of one step: log-likelihood, lower bound and the KL gap between them."""
    return f"ln p(X|θ) = {s.log_likelihood:.6f}   L(q,θ) = {s.lower_bound:.6f}   KL(q‖p) = {s.kl:.3g}"


def _params_table(s: Any, title: str) -> RichTable:
    """The parameters after one step: weight, mean and covariance of each component.

    Parameters
    ----------
    s : TraceStep
        The start or an M-step.
    title : str
        The table's title.

    Returns
    -------
    rich.table.Table
    """
    t = RichTable(title=title, title_justify="left", show_edge=False, header_style="bold")
    t.add_column("k", justify="right")
    t.add_column("π_k", justify="right")
    t.add_column("μ_k", justify="right")
    t.add_column("Σ_k")
    for j in range(s.weights.size):
        t.add_row(
            str(j),
            f"{s.weights[j]:.4f}",
            " ".join(f"{v:.4f}" for v in s.means[j]),
            _matrix(s.covariances[j]),
        )
    return t


def _responsibilities_table(X: np.ndarray, s: Any) -> RichTable:
    """The responsibilities after an E-step: one row per point.

    Parameters
    ----------
    X : ndarray of shape (n_samples, D)
        The points.
    s : TraceStep
        An E-step.

    Returns
    -------
    rich.table.Table
    """
    t = RichTable(show_edge=False, header_style="bold")
    t.add_column("n", justify="right")
    t.add_column("x_n", justify="right")
    for j in range(s.responsibilities.shape[1]):
        t.add_column(f"q_n{j}", justify="right")
    for i in range(X.shape[0]):
        t.add_row(str(i + 1), " ".join(f"{v:g}" for v in X[i]), *(_prob(q) for q in s.responsibilities[i]))
    return t


def _staircase_table(trace: Any) -> RichTable:
    """Every step's log-likelihood, bound and KL, and the identity ``L + KL = ln p`` checked.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace.trace_em` returned.

    Returns
    -------
    rich.table.Table
    """
    t = RichTable(title="the staircase", title_justify="left", show_edge=False, header_style="bold")
    for col in ("step", "ln p(X|θ)", "L(q,θ)", "KL(q‖p)", "L + KL − ln p"):
        t.add_column(col, justify="right")
    for s in (trace.initial, *trace.steps):
        label = "start" if s.step == "start" else f"{s.step}{s.iteration}"
        t.add_row(
            label,
            f"{s.log_likelihood:.6f}",
            f"{s.lower_bound:.6f}",
            f"{s.kl:.3g}",
            f"{s.lower_bound + s.kl - s.log_likelihood:.1e}",
        )
    return t


def _print_trace(trace: Any, console: Console) -> None:
    """Print a trace for people: the start, every E-step and M-step, and the staircase.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace.trace_em` returned.
    console : Console
        Where to print.
    """
    n, d = trace.X.shape
    k = trace.initial.weights.size
    console.print(
        f"[bold]EM step by step[/]: {n} points, {d} features, K={k}, covariance "
        f"{trace.covariance_type}, reg_covar={trace.reg_covar:g}"
    )
    console.print(_params_table(trace.initial, "start θ⁰"))
    console.print(_numbers(trace.initial))
    for s in trace.steps:
        console.print()
        if s.step == "E":
            console.rule(f"iteration {s.iteration}: E-step   q_nk = p(k | x_n, θ)")
            console.print(_responsibilities_table(trace.X, s))
            console.print(_numbers(s))
            console.print("[green]the E-step closes the gap: KL = 0, L = ln p(X|θ)[/]")
        else:
            console.rule(f"iteration {s.iteration}: M-step   θ = argmax L(q, θ)")
            console.print(_params_table(s, ""))
            console.print(_numbers(s))
            console.print("[green]the M-step raises the bound L, and ln p(X|θ) with it[/]")
    console.print()
    console.print(_staircase_table(trace))
