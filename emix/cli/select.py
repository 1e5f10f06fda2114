"""``emix select``: choose the covariance model and K by BIC or ICL, as R's mclust does."""

from __future__ import annotations

import enum
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from .checks import warn_about_table
from .console import out
from .errors import Failure
from .files import Scaling, check_outputs, model_step, write_model
from .fit_options import PriorOpt
from .options import (
    ColumnsOpt,
    DataArg,
    ExcludeOpt,
    HeaderOpt,
    SeedOpt,
    covariance_names,
    parse_columns,
    parse_exclude,
)
from .summary import criteria

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix select faithful.csv\n\n"
    "  emix select data.csv -k 1..6 --models EII,VII,EEE,VVV --plot bic.png -o best.emix\n\n"
    "  emix select data.parquet --criterion icl --table grid.csv\n\n"
    "  emix select faithful.csv --prior default"
)


class Criterion(str, enum.Enum):
    """The values of ``--criterion``."""

    bic = "bic"
    icl = "icl"
    aic = "aic"


def select_command(
    data: DataArg,
    n_components: Annotated[
        str, typer.Option("-k", "--n-components", help="K values: a range 1..9, a list 2,3,5, or one number.")
    ] = "1..9",
    models: Annotated[
        str | None,
        typer.Option(
            "--models", "-m", help="Comma-separated covariance models (default: the 14 mclust models)."
        ),
    ] = None,
    columns: ColumnsOpt = None,
    criterion: Annotated[
        Criterion, typer.Option("--criterion", help="What chooses the best fit.")
    ] = Criterion.bic,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw the criterion against K, one line per model (PNG, SVG, PDF)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also save the best model.")] = None,
    table_path: Annotated[
        Path | None, typer.Option("--table", help="Write every fit's numbers (CSV, TSV or Parquet).")
    ] = None,
    seed: SeedOpt = 0,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", help="Worker processes (default: all cores for a large grid, else this process)."
        ),
    ] = None,
    header: HeaderOpt = True,
    exclude: ExcludeOpt = None,
    noise: Annotated[
        bool,
        typer.Option("--noise", help="Every fit with a noise component (mclust's, uniform over hypvol)."),
    ] = False,
    prior: PriorOpt = None,
) -> None:
    """Choose the covariance model and K by BIC (or ICL), as R's mclust does.

    Fits every (model, K), prints the criterion table in mclust's sign
    (2 log L - p log n: larger is better; NA where a component became
    degenerate by mclust's test), names the best fit, and with --plot draws the
    criterion against K. With --prior every fit is MAP with mclust's conjugate
    prior, and the BIC is mclust's with a prior (the likelihood at the MAP
    estimate); the default models are then the ten mclust has a prior for.
    """
    from ..selection import select

    check_outputs(plot, output, table_path)
    names = _parse_models(models)
    if noise and n_components == "1..9":
        n_components = "0..9"  # mclust's grid with noise: G = 0 (noise alone) to 9
    table, ks = _read(data, columns, exclude, header, n_components, least=0 if noise else 1)
    with model_step(data, table):
        map_fit = {} if prior is None else {"prior": prior}  # mclustBIC(X, prior = priorControl())
        result = select(
            table.X,
            n_components=ks,
            models=names,
            criterion=criterion.value,
            random_state=seed,
            n_jobs=jobs,
            noise=noise,
            **map_fit,
        )
    values = result.table(criterion.value)
    console = out()
    console.print(
        f"{criterion.value.upper()} of every fit to {data.name} "
        "(mclust's sign: larger is better; NA: degenerate, never chosen)"
    )
    _print_grid(console, result, values)
    _print_best(console, result, criterion.value)
    if table_path is not None:
        from ..sources.tables import write_table

        write_table(result.to_frame(), table_path)
        console.print(f"table written to {table_path}")
    if output is not None and result.best_estimator is None:
        raise Failure("the best model is the noise alone (K = 0): no mixture to write; give -k from 1")
    if output is not None:
        scaling = Scaling(None, None)
        ll, bic, aic = criteria(result.best_estimator, table.X, scaling)
        write_model(
            result.best_estimator, output, table.columns, scaling, table.X.shape[0], str(data), ll, bic, aic
        )
        console.print(f"best model written to {output}")
    if plot is not None and str(plot) not in ("", "."):  # --plot "" draws nothing, as before
        from ..teach.plot import plot_criterion, save_figure

        save_figure(plot_criterion(result, criterion.value), plot, dpi=110)
        console.print(f"picture written to {plot}")


def _read(
    data: Path, columns: str | None, exclude: str | None, header: bool, ks: str, least: int = 1
) -> tuple[Any, list[int]]:
    """The table (warned about as :func:`.checks.warn_about_table` does) and the K values it has rows for.

    Raises
    ------
    Failure
        When the file has fewer rows than every K asked for.
    """
    from ..selection import SelectionWarning
    from ..sources.tables import read_table, table_format

    wanted = _parse_ks(ks, least)
    left_out = parse_exclude(exclude, columns)
    table = read_table(data, parse_columns(columns), header=header, exclude=left_out)
    csv = table_format(data) in ("csv", "tsv")
    warn_about_table(data, table, header=header and csv, chosen=columns is not None)
    n = table.X.shape[0]
    usable = [k for k in wanted if k <= n]
    if not usable:
        raise Failure(
            f"{data}: {n} row(s), fewer than every K asked for ({ks}); give smaller K values with -k"
        )
    if len(usable) < len(wanted):
        above = ", ".join(f"K={k}" for k in wanted if k > n)
        message = f"{data}: {n} rows, so {above} left out of the grid; give -k values up to {n}"
        warnings.warn(message, SelectionWarning, stacklevel=2)
    return table, usable


def _parse_ks(text: str, least: int = 1) -> list[int]:
    """``"1..9"``, ``"2,3,5"`` or ``"4"`` as a sorted list of distinct K values.

    Parameters
    ----------
    text : str
        The ``-k`` option.
    least : int, default=1
        The smallest K allowed (0 with ``--noise``: noise alone).

    Returns
    -------
    list of int

    Raises
    ------
    Failure
        When ``text`` is none of the three forms, or a K is below 1.
    """
    try:
        if ".." in text:
            lo, hi = (int(v) for v in text.split(".."))
            ks = list(range(lo, hi + 1))
        else:
            ks = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise Failure(f"-k {text!r}: give a range like 1..9, a list like 2,3,5 or one number") from None
    if not ks or min(ks) < least:
        extra = "" if least == 0 else " (K = 0, noise alone, with --noise)"
        raise Failure(f"-k {text!r}: every K must be at least {least}{extra}")
    return sorted(set(ks))


def _parse_models(models: str | None) -> list[str] | None:
    """The covariance models of ``--models EII,VVV``; None (all 14 mclust models) when not given.

    Parameters
    ----------
    models : str or None
        The ``--models`` option.

    Returns
    -------
    list of str or None

    Raises
    ------
    Failure
        When a name is not a covariance model, or none is given.
    """
    if models is None:
        return None
    names = [m.strip() for m in models.split(",") if m.strip()]
    known = covariance_names()
    unknown = [m for m in names if m not in known]
    if unknown or not names:
        raise Failure(
            f"--models: unknown model(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}"
        )
    return names


def _print_grid(console: Console, result: Any, values: np.ndarray) -> None:
    """Print the criterion as mclust does: K down, models across, in blocks as wide as the terminal.

    Parameters
    ----------
    console : Console
        Where to print.
    result : SelectionResult
        What :func:`emix.selection.select` returned.
    values : ndarray of shape (len(result.n_components), len(result.models))
        The criterion of every fit; the best one is shown in reverse.
    """
    best = result.best
    per_block = max(1, (console.width - 5) // 12)
    for start in range(0, len(result.models), per_block):
        grid = RichTable(show_edge=False, header_style="bold")
        grid.add_column("K", justify="right")
        block = list(enumerate(result.models))[start : start + per_block]
        for _, m in block:
            grid.add_column(m, justify="right", min_width=10)
        for i, k in enumerate(result.n_components):
            cells = []
            for j, m in block:
                v = values[i, j]
                cell = "NA" if not np.isfinite(v) else f"{v:.3f}"
                if m == best.model and k == best.n_components:
                    cell = f"[bold reverse]{cell}[/]"
                cells.append(cell)
            grid.add_row(str(k), *cells)
        console.print(grid)
        console.print()


def _print_best(console: Console, result: Any, criterion: str) -> None:
    """Print the best fit's numbers and the two runners-up.

    Parameters
    ----------
    console : Console
        Where to print.
    result : SelectionResult
        What :func:`emix.selection.select` returned.
    criterion : str
        ``bic``, ``icl`` or ``aic``: the number shown for the runners-up.
    """
    best = result.best
    what = "noise alone[/], K=0" if best.n_components == 0 else f"{best.model}[/], K={best.n_components}"
    console.print(
        f"best: [bold]{what}: log-likelihood {best.log_likelihood:.6f}, "
        f"{best.n_parameters} parameters, BIC {best.bic:.3f}, ICL {best.icl:.3f}"
    )
    top = result.top(3)
    if len(top) > 1:
        console.print(
            "next: " + "; ".join(f"{r.model},{r.n_components} ({getattr(r, criterion):.3f})" for r in top[1:])
        )
