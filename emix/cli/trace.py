"""``emix trace``: EM one step at a time, every E-step and M-step shown, for every family."""

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
from .options import (
    ColumnsOpt,
    Covariance,
    HeaderOpt,
    ImageShapeOpt,
    parse_columns,
    parse_image_shape,
)

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix trace                        # the lecture example\n\n"
    "  emix trace --iterations 5 --plot staircase.png\n\n"
    "  emix trace small.csv -k 3 --seed 1\n\n"
    "  emix trace digits.csv -k 10 --family bernoulli --images means.png --image-shape 8x8\n\n"
    "  emix trace counts.csv -k 2 --family poisson --alpha 0\n\n"
    "  emix trace mixed.csv -k 2 --family "
    '\'{"family": "product", "parts": [{"family": "gaussian", "columns": [0, 1]}, '
    '{"family": "categorical", "columns": [2]}]}\'\n\n'
    "  emix trace --format json > trace.json"
)

#: how each family's arrays are written in the tables (others keep their names)
SYMBOLS = {
    "means": "μ_k",
    "covariances": "Σ_k",
    "probabilities": "p_k",
    "rates": "λ_k",
    "dof": "ν_k",
}

#: values of one array shown in a table cell before it is cut short
CELL_VALUES = 5


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
    family: Annotated[
        str,
        typer.Option(
            "--family",
            help="gaussian, bernoulli, categorical, poisson, exponential, student, "
            "or a JSON family spec (a product for mixed tables).",
        ),
    ] = "gaussian",
    covariance: Annotated[
        Covariance | None,
        typer.Option("--covariance", help="Covariance model (gaussian and student; default full)."),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha", help="Pseudo-count (bernoulli, categorical, poisson); 0: maximum likelihood."
        ),
    ] = None,
    columns: ColumnsOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the k-means start (with DATA).")] = 0,
    header: HeaderOpt = True,
    fmt: Annotated[
        TraceFormat, typer.Option("--format", help="text for people, json for programs.")
    ] = TraceFormat.text,
    rows: Annotated[int, typer.Option("--rows", help="Points shown in each E-step table.", min=1)] = 20,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the E/M staircase (PNG).")] = None,
    blend: Annotated[
        Path | None,
        typer.Option("--blend", help="Also draw each E-step's responsibilities as colour blends (PNG)."),
    ] = None,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images", help="Also draw the components as images by iteration (with --image-shape)."
        ),
    ] = None,
    image_shape: ImageShapeOpt = None,
) -> None:
    """Run EM one step at a time and show every E-step and M-step.

    Without DATA it reproduces the lecture example: 6 points, K=2, start
    weights 0.6/0.4, means [4.5, 2.5] and [2.5, 5.0], identity covariances,
    reg_covar=0. After each E-step it shows the responsibilities q_nk (and a
    Student-t's scale weights u_nk), after each M-step the new parameters,
    and for both the log-likelihood ln p(X|θ), the lower bound L(q,θ),
    KL(q‖p(z|X,θ)) and Q(θ,θ_old): the E-step makes KL zero, the M-step
    raises Q and the bound with it.
    """
    from ..teach.trace import trace_em, trace_lecture_example

    shape = parse_image_shape(image_shape)
    if (images is None) != (shape is None):
        raise Failure("--images and --image-shape go together: e.g. --images means.png --image-shape 8x8")
    if data is None:
        _check_lecture(n_components, columns, family, alpha, covariance)
        tr = trace_lecture_example(iterations)
    else:
        if n_components is None:
            raise Failure("give the number of components with -k when tracing DATA")
        from ..sources.tables import read_table

        table = read_table(data, parse_columns(columns), header=header)
        tr = trace_em(
            table.X,
            n_components,
            family=family,
            n_iter=iterations,
            covariance_type=None if covariance is None else covariance.value,
            alpha=alpha,
            random_state=seed,
        )
    if fmt is TraceFormat.json:
        sys.stdout.write(json.dumps(tr.to_dict(), indent=1) + "\n")
    else:
        _print_trace(tr, out(), rows)
    _draw(tr, err() if fmt is TraceFormat.json else out(), plot, blend, images, shape)


def _check_lecture(
    n_components: int | None, columns: str | None, family: str, alpha: Any, covariance: Any
) -> None:
    """Refuse the options the lecture example (no DATA) does not take.

    Raises
    ------
    Failure
        Naming the option, and saying to give DATA.
    """
    if n_components not in (None, 2) or columns is not None:
        raise Failure("-k and --columns go with DATA; the lecture example has K=2")
    if family != "gaussian" or alpha is not None:
        raise Failure(f"the lecture example is Gaussian; give DATA to trace the {family} family")
    if covariance not in (None, Covariance["full"]):
        raise Failure("the lecture example uses full covariances; give DATA to try others")


def _draw(
    tr: Any, console: Console, plot: Path | None, blend: Path | None, images: Path | None, shape
) -> None:
    """Write the pictures asked for and say where they went.

    Parameters
    ----------
    tr : EMTrace
    console : Console
        Where to say it.
    plot, blend, images : Path or None
        The staircase, the responsibilities as colour blends, the components as images.
    shape : (int, int) or None
        The images' height and width.
    """
    if plot is None and blend is None and images is None:
        return
    from ..teach.plot import plot_trace, plot_trace_images, plot_trace_responsibilities, save_figure

    if blend is not None and tr.X.shape[1] < 2:
        raise Failure("--blend draws two features; the data has one")
    for path, draw in (
        (plot, lambda: plot_trace(tr)),
        (blend, lambda: plot_trace_responsibilities(tr)),
        (images, lambda: plot_trace_images(tr, shape)),
    ):
        if path is not None:
            save_figure(draw(), path)
            console.print(f"picture written to {path}")


def _prob(q: float) -> str:
    """A responsibility, readable near 0 and 1: ``0.250000``, ``3.142e-07``, ``1 - 2.00e-09``."""
    return (
        f"{q:.6f}"
        if q in (0.0, 1.0) or 1e-4 <= q <= 1 - 1e-4
        else f"{q:.3e}"
        if q < 0.5
        else f"1 - {1 - q:.2e}"
    )


def _row(values: np.ndarray, fmt: str = "{:.4f}") -> str:
    """Numbers on one line, cut short after :data:`CELL_VALUES`: ``0.1000 0.2000 … (64 values)``."""
    flat = np.ravel(values)
    shown = " ".join(fmt.format(v) for v in flat[:CELL_VALUES])
    return shown if flat.size <= CELL_VALUES else f"{shown} … ({flat.size} values)"


def _cell(value: np.ndarray) -> str:
    """One component's array in a cell: a number, a row, a matrix ``[a b; c d]`` or one row per feature."""
    if value.ndim == 0:
        return f"{float(value):.4f}"
    if value.ndim == 1:
        return _row(value)
    if value.shape[0] * value.shape[1] <= CELL_VALUES * 2:
        return "[" + "; ".join(_row(r) for r in value) + "]"
    return "[" + "; ".join(_row(r) for r in value[:2]) + f"; … ({value.shape[0]} rows)]"


def _numbers(s: Any) -> str:
    """The quantities of one step: log-likelihood, bound and the KL gap; then Q and H(q), L = Q + H."""
    return (
        f"ln p(X|θ) = {s.log_likelihood:.6f}   L(q,θ) = {s.lower_bound:.6f}   KL(q‖p) = {s.kl:.3g}\n"
        f"Q(θ,θ_old) = {s.expected_complete:.6f}   H(q) = {s.entropy:.6g}   (L = Q + H)"
    )


def _params_table(s: Any, title: str) -> tuple[RichTable, list[str]]:
    """The parameters after one step: weight and the family's arrays, one row per component.

    Parameters
    ----------
    s : TraceStep
        The start or an M-step.
    title : str
        The table's title.

    Returns
    -------
    (rich.table.Table, list of str)
        The table, and lines for the arrays that are not per component
        (e.g. a categorical family's ``n_levels``).
    """
    k = s.weights.size
    per_component = {n: v for n, v in s.arrays.items() if v.ndim >= 1 and v.shape[0] == k}
    shared = [f"{n} = {_row(v, '{:g}')}" for n, v in s.arrays.items() if n not in per_component]
    t = RichTable(title=title, title_justify="left", show_edge=False, header_style="bold")
    t.add_column("k", justify="right")
    t.add_column("π_k", justify="right")
    for name, value in per_component.items():
        t.add_column(_symbol(name), justify="right" if value.ndim <= 2 else "left")
    for j in range(k):
        t.add_row(str(j), f"{s.weights[j]:.4f}", *(_cell(v[j]) for v in per_component.values()))
    return t, shared


def _symbol(name: str) -> str:
    """``μ_k`` for ``means``, ``μ_k (part 0)`` for a product's ``part0_means``; other names as they are."""
    head, _, base = name.partition("_")
    if head.startswith("part") and head[4:].isdigit() and base:
        return f"{_symbol(base)} (part {head[4:]})"
    return SYMBOLS.get(name, name)


def _responsibilities_table(X: np.ndarray, s: Any, rows: int) -> RichTable:
    """The responsibilities after an E-step (and the latent expectations), one row per point.

    Parameters
    ----------
    X : ndarray of shape (n_samples, D)
        The points.
    s : TraceStep
        An E-step.
    rows : int
        At most this many points; a last row says how many were left out.

    Returns
    -------
    rich.table.Table
    """
    t = RichTable(show_edge=False, header_style="bold")
    t.add_column("n", justify="right")
    t.add_column("x_n", justify="right")
    k = s.responsibilities.shape[1]
    for j in range(k):
        t.add_column(f"q_n{j}", justify="right")
    for name in s.latent:
        for j in range(k):
            t.add_column(f"{name}_n{j}", justify="right")
    for i in range(min(rows, X.shape[0])):
        latent = [f"{v[i, j]:.4f}" for v in s.latent.values() for j in range(k)]
        t.add_row(str(i + 1), _row(X[i], "{:g}"), *(_prob(q) for q in s.responsibilities[i]), *latent)
    if X.shape[0] > rows:
        t.add_row("…", f"{X.shape[0] - rows} more points", *([""] * (k * (1 + len(s.latent)))))
    return t


def _staircase_table(trace: Any) -> RichTable:
    """Every step's log-likelihood, bound, KL and Q, and the identity ``L + KL = ln p`` checked.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace.trace_em` returned.

    Returns
    -------
    rich.table.Table
    """
    t = RichTable(title="the staircase", title_justify="left", show_edge=False, header_style="bold")
    for col in ("step", "ln p(X|θ)", "L(q,θ)", "KL(q‖p)", "Q(θ,θ_old)", "L + KL − ln p"):
        t.add_column(col, justify="right")
    for s in trace.states:
        t.add_row(
            s.label,
            f"{s.log_likelihood:.6f}",
            f"{s.lower_bound:.6f}",
            f"{s.kl:.3g}",
            f"{s.expected_complete:.6f}",
            f"{s.lower_bound + s.kl - s.log_likelihood:.1e}",
        )
    return t


def _family_line(trace: Any) -> str:
    """``covariance full, reg_covar=0`` / ``bernoulli, alpha=0.01`` / ``product of ...``."""
    spec = dict(trace.family.spec()) if hasattr(trace.family, "spec") else {"family": trace.family_name}
    name = spec.pop("family", trace.family_name)
    if name == "product":
        parts = ", ".join(f"{p.get('family')} on columns {p.get('columns')}" for p in spec.get("parts", []))
        return f"product of {parts}"
    words = [] if name == "gaussian" else [str(name)]
    if spec.get("covariance_type") is not None:
        words.append(f"covariance {spec.pop('covariance_type')}")
    options = [
        f"{k}={v:g}" for k, v in spec.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    return ", ".join(words + options)


def _m_step_line(e: Any, m: Any) -> str:
    """What the M-step did, in numbers: Q and L rise by the same amount; ln p by that and the new KL."""
    rise = m.expected_complete - e.expected_complete
    return (
        f"the M-step raises Q(θ,θ_old) by {rise:.6g}, and L by as much (q is fixed);\n"
        f"ln p(X|θ) rises by {m.log_likelihood - e.log_likelihood:.6g}: that plus the new KL, "
        f"{m.kl:.3g}, which the next E-step closes"
    )


def _print_trace(trace: Any, console: Console, rows: int = 20) -> None:
    """Print a trace for people: the start, every E-step and M-step, and the staircase.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace.trace_em` returned.
    console : Console
        Where to print.
    rows : int, default=20
        Points shown in each E-step table.
    """
    n, d = trace.X.shape
    k = trace.initial.weights.size
    console.print(f"[bold]EM step by step[/]: {n} points, {d} features, K={k}, {_family_line(trace)}")
    if not trace.exact_m_step:
        console.print(
            "[yellow]this M-step is not exact (a pseudo-count or jitter): it maximises L plus a log-prior, "
            "so L may fall slightly; --alpha 0 gives maximum likelihood[/]"
        )
    table, shared = _params_table(trace.initial, "start θ⁰")
    console.print(table)
    for line in shared:
        console.print(line)
    console.print(_numbers(trace.initial))
    previous = trace.initial
    for s in trace.steps:
        console.print()
        if s.step == "E":
            console.rule(f"iteration {s.iteration}: E-step   q_nk = p(k | x_n, θ)")
            console.print(_responsibilities_table(trace.X, s, rows))
            if s.latent:
                names = ", ".join(f"{name}_nk" for name in s.latent)
                console.print(f"{names} = E[· | x_n, z_n = k] under θ: the family's other latent variable(s)")
            console.print(_numbers(s))
            console.print("[green]the E-step closes the gap: KL = 0, L = ln p(X|θ)[/]")
        else:
            console.rule(f"iteration {s.iteration}: M-step   θ = argmax Q(θ, θ_old)")
            console.print(_params_table(s, "")[0])
            console.print(_numbers(s))
            console.print(f"[green]{_m_step_line(previous, s)}[/]")
        previous = s
    console.print()
    console.print(_staircase_table(trace))
