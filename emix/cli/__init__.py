"""The ``emix`` command: fit, predict, sample, score, info, demo and trace.

Needs the ``cli`` extra (Typer, Rich, pandas, pyarrow); the pictures need the
``plot`` extra (matplotlib, pillow). This is the only module of emix that
prints. Every error is reported as one line on stderr with a non-zero exit
status, never as a traceback (set ``EMIX_DEBUG=1`` to see one).
"""

from __future__ import annotations

import enum
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from .console import err
from .console import out as out_console
from .errors import Failure, handle_errors
from .files import Scaling, emit_table, load_model, read_for_model, write_model
from .options import (
    ColumnsOpt,
    Covariance,
    DataArg,
    HeaderOpt,
    IdOpt,
    ModelArg,
    covariance_names,
    parse_columns,
)
from .progress import fit_progress
from .summary import criteria, fit_stats, summary

app = typer.Typer(
    name="emix",
    help="Fit mixture models with EM, use them, and watch EM work.\n\n"
    "Run [bold]emix demo[/] for a first look, [bold]emix trace[/] for EM step by step, "
    "and [bold]emix COMMAND --help[/] for the options and examples of each command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Family(str, enum.Enum):
    gaussian = "gaussian"
    student = "student"
    bernoulli = "bernoulli"
    categorical = "categorical"
    poisson = "poisson"
    exponential = "exponential"


def _make_estimator(
    family: Family,
    k: int,
    covariance: str,
    tol: float,
    reg_covar: float,
    max_iter: int,
    n_init: int,
    init: str,
    seed: int | None,
):
    """The estimator ``emix fit`` uses for ``--family``."""
    from ..estimators.gaussian import GaussianMixture
    from ..estimators.named import Mixture, StudentMixture

    common = dict(tol=tol, max_iter=max_iter, n_init=n_init, init_params=init, random_state=seed)
    if family is Family.gaussian:
        return GaussianMixture(k, covariance_type=covariance, reg_covar=reg_covar, **common)
    if family is Family.student:
        return StudentMixture(k, covariance_type=covariance, reg_covar=reg_covar, **common)
    if covariance != "full":
        raise Failure(f"--covariance applies to the gaussian and student families, not {family.value}")
    return Mixture(k, family=family.value, **common)


class Criterion(str, enum.Enum):
    bic = "bic"
    icl = "icl"
    aic = "aic"


class TraceFormat(str, enum.Enum):
    text = "text"
    json = "json"


# -- commands ----------------------------------------------------------------------------------------------

#: files larger than this are fitted by streaming (``emix fit --stream``) unless --no-stream is given
STREAM_BYTES = 1 << 30


def _fit_stream(
    data: Path,
    n_components: int,
    output: Path,
    covariance: str,
    columns: str | None,
    n_init: int,
    seed: int | None,
    max_iter: int,
    tol: float,
    reg_covar: float,
    init: str,
    header: bool,
    progress: bool | None,
    family: Family,
    weights: str | None,
) -> None:
    """``emix fit --stream``: EM over a file source, re-reading the file on every pass."""
    from ..sources import file_source

    source = file_source(data, parse_columns(columns), weights=weights, header=header)
    model = _make_estimator(family, n_components, covariance, tol, reg_covar, max_iter, n_init, init, seed)
    show = err().is_terminal if progress is None else progress
    with fit_progress(show, max_iter, n_init):
        model.fit(source)
    n = source.n_samples
    ll = model.score(source) * n
    p = model._n_parameters()
    bic, aic = -2 * ll + p * math.log(n), -2 * ll + 2 * p
    scaling = Scaling(None, None)
    write_model(model, output, source.columns, scaling, n, str(data), ll, bic, aic)
    console = out_console()
    for part in summary(
        model,
        source.columns,
        scaling,
        fit_stats(model, n, ll, bic, aic, scaling),
        f"{type(model).__name__}, K={n_components}, fitted to {data.name} (streamed)",
    ):
        console.print(part)
    console.print(f"model written to {output}")


@app.command(
    epilog="[bold]Examples[/]\n\n"
    "  emix fit faithful.csv -k 3 --covariance tied -o faithful.emix\n\n"
    "  emix fit data.parquet -k 4 --columns height,weight --standardize --n-init 5 -o model.emix\n\n"
    "  emix fit points.npy -k 2 -o model.emix --plot clusters.png --animate em.gif\n\n"
    "  emix fit huge.parquet -k 5 --stream -o huge.emix",
)
@handle_errors
def fit(
    data: DataArg,
    n_components: Annotated[int, typer.Option("-k", "--n-components", help="Number of components K.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Model file to write.", show_default=False)],
    covariance: Annotated[Covariance, typer.Option("--covariance", help="Covariance model.")] = Covariance[
        "full"
    ],
    columns: ColumnsOpt = None,
    standardize: Annotated[
        bool,
        typer.Option(
            "--standardize",
            help="Centre and scale each column; stored in the model, so "
            "predict, sample and score use the data's own units.",
        ),
    ] = False,
    n_init: Annotated[int, typer.Option("--n-init", help="Initialisations; the best is kept.")] = 1,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (reproducible by default).")] = 0,
    max_iter: Annotated[
        int, typer.Option("--max-iter", help="Maximum EM iterations per initialisation.")
    ] = 100,
    tol: Annotated[
        float, typer.Option("--tol", help="Stop when the mean log-likelihood changes less.")
    ] = 1e-3,
    reg_covar: Annotated[
        float, typer.Option("--reg-covar", help="Jitter added to covariance diagonals.")
    ] = 1e-6,
    init: Annotated[
        str, typer.Option("--init", help="kmeans, k-means++, random or random_from_data.")
    ] = "kmeans",
    header: HeaderOpt = True,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the clusters (PNG, SVG, PDF).")
    ] = None,
    animate: Annotated[
        Path | None, typer.Option("--animate", help="Also write an animated GIF of EM.")
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar with the log-likelihood (default: when stderr is a terminal).",
            show_default=False,
        ),
    ] = None,
    family: Annotated[
        Family, typer.Option("--family", help="Component family (see docs/families.md).")
    ] = Family.gaussian,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Column of non-negative row weights (not a feature).")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="Column of known components (0..K-1) for some rows, -1 or empty for "
            "the others: semi-supervised EM (not a feature).",
        ),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="Read the CSV/Parquet file in chunks on every EM pass "
            "instead of loading it, so it may be larger than memory (default: for files over "
            f"{STREAM_BYTES >> 20} MiB).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fit a mixture to the numeric columns of a table and save the model.

    Empty cells and NaN are missing values: EM uses what is observed in each
    row (exactly, under missing-at-random). Prints the components (weight and
    means or parameters, in the data's units) and the log-likelihood, BIC and
    AIC (smaller is better), the number of EM iterations and whether EM
    converged. Files are written atomically.

    With --stream (the default for CSV/Parquet files over 1 GiB) the file is
    read in chunks on every EM pass instead of being loaded, so it may be
    larger than memory; the model is the same as without.
    """
    from ..sources.tables import read_table, table_format

    extra = [c for c in (weights, labels) if c is not None]
    if weights is not None and weights == labels:
        raise Failure("--weights and --labels name the same column")
    if stream is None:
        stream = table_format(data) != "npy" and data.is_file() and data.stat().st_size > STREAM_BYTES
    if stream:
        unsupported = [
            flag
            for flag, on in (
                ("--standardize", standardize),
                ("--labels", labels is not None),
                ("--plot", plot is not None),
                ("--animate", animate is not None),
            )
            if on
        ]
        if unsupported:
            raise Failure(f"{unsupported[0]} needs the data in memory; use --no-stream (or leave it out)")
        if table_format(data) == "npy":
            raise Failure(f"{data}: --stream reads CSV, TSV and Parquet files, not .npy")
        _fit_stream(
            data,
            n_components,
            output,
            covariance.value,
            columns,
            n_init,
            seed,
            max_iter,
            tol,
            reg_covar,
            init,
            header,
            progress,
            family,
            weights,
        )
        return
    table = read_table(
        data,
        parse_columns(columns),
        header=header,
        allow_missing=True,
        extra=[weights] if weights else [],
        extra_with_missing=[labels] if labels else [],
    )
    X = table.X
    clash = [c for c in extra if c in table.columns]
    if clash:
        raise Failure(
            f"column {clash[0]!r} is both a feature and --weights/--labels; leave it out of --columns"
        )
    scaling = Scaling(None, None)
    if standardize:
        if family not in (Family.gaussian, Family.student):
            raise Failure(f"--standardize applies to the gaussian and student families, not {family.value}")
        scale = np.nanstd(X, axis=0)
        if (scale == 0).any():
            bad = table.columns[int(np.flatnonzero(scale == 0)[0])]
            raise Failure(f"{data}: column {bad!r} is constant; it cannot be standardised (drop it)")
        scaling = Scaling(np.nanmean(X, axis=0), scale)
    Z = scaling.to_model(X)
    model = _make_estimator(
        family, n_components, covariance.value, tol, reg_covar, max_iter, n_init, init, seed
    )
    y = None
    if labels is not None:
        y = table.extra[labels]
        y = np.where(np.isnan(y), -1, y)
        if (y != np.round(y)).any():
            raise Failure(f"--labels: column {labels!r} must hold whole numbers (component index or -1)")
        y = y.astype(np.int64)
    show = err().is_terminal if progress is None else progress
    with fit_progress(show, max_iter, n_init):
        model.fit(Z, y, sample_weight=table.extra.get(weights) if weights else None)
    ll, bic, aic = criteria(model, Z, scaling, table.extra.get(weights) if weights else None)
    write_model(model, output, table.columns, scaling, X.shape[0], str(data), ll, bic, aic)
    console = out_console()
    stats = fit_stats(model, X.shape[0], ll, bic, aic, scaling)
    if weights:
        total = float(table.extra[weights].sum())
        stats["rows"] = f"{X.shape[0]} (total weight {total:g})"
        stats["per row"] = f"{ll / total:.6f} (per unit of weight)"
    for part in summary(
        model,
        table.columns,
        scaling,
        stats,
        f"{type(model).__name__}, K={n_components}, fitted to {data.name}",
    ):
        console.print(part)
    console.print(f"model written to {output}")
    if (plot is not None or animate is not None) and family is not Family.gaussian:
        raise Failure("--plot and --animate draw Gaussian mixtures only")
    if plot is not None:
        from ..teach.plot import plot_clusters, save_figure

        save_figure(
            plot_clusters(model, X, feature_names=table.columns, loc=scaling.loc, scale=scaling.scale), plot
        )
        console.print(f"picture written to {plot}")
    if animate is not None:
        if X.shape[1] < 2:
            raise Failure("--animate needs at least two columns")
        from ..teach.plot import animate_em
        from ..teach.trace import em_path

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the replay repeats the fit's warnings
            path = em_path(model, Z)
        frames = animate_em(
            X,
            path,
            animate,
            covariance_type=model.covariance_type,
            feature_names=table.columns,
            loc=scaling.loc,
            scale=scaling.scale,
        )
        note = "" if X.shape[1] == 2 else f" (columns {table.columns[0]} and {table.columns[1]})"
        console.print(f"animation written to {animate}: {frames} frames{note}")


@app.command(
    epilog="[bold]Examples[/]\n\n"
    "  emix predict model.emix new.csv -o labels.csv\n\n"
    "  emix predict model.emix new.parquet --proba --id customer_id -o out.parquet\n\n"
    "  emix predict model.emix new.csv | head",
)
@handle_errors
def predict(
    model_path: ModelArg,
    data: DataArg,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="CSV, TSV or Parquet file (default: CSV on stdout).")
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Also write the responsibilities p(k | x).")] = False,
    columns: ColumnsOpt = None,
    id_column: IdOpt = None,
    header: HeaderOpt = True,
) -> None:
    """Label each row with its most probable component, in the input's row order.

    The model's columns are found by name (or by position when the file has
    exactly as many data columns); a standardisation stored at fit time is
    applied. Output columns: the --id column if given, 'label', and with
    --proba one 'proba_K' column per component.
    """
    import pandas as pd

    model, stored, scaling, _ = load_model(model_path)
    table = read_for_model(data, model, stored, columns, id_column, header)
    Z = scaling.to_model(table.X)
    out: dict[str, Any] = {}
    if table.id_name is not None:
        out[table.id_name] = table.ids
    out["label"] = model.predict(Z)
    if proba:
        resp = model.predict_proba(Z)
        for k in range(resp.shape[1]):
            out[f"proba_{k}"] = resp[:, k]
    emit_table(pd.DataFrame(out), output)


@app.command(
    epilog="[bold]Examples[/]\n\n"
    "  emix sample model.emix -n 1000 -o synthetic.csv\n\n"
    "  emix sample model.emix -n 5 --seed 1",
)
@handle_errors
def sample(
    model_path: ModelArg,
    n: Annotated[int, typer.Option("-n", "--n-samples", help="Number of rows to draw.", min=1)] = 100,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="CSV, TSV, Parquet or .npy (default: CSV on stdout)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Draw rows from a fitted mixture, in the data's units.

    Rows come grouped by component; the 'component' column says which one
    drew each row (a .npy output holds the features only).
    """
    import pandas as pd

    from ..sources.tables import table_format

    model, cols, scaling, _ = load_model(model_path)
    model.set_params(random_state=seed)
    Z, y = model.sample(n)
    X = scaling.to_data(Z)
    frame = pd.DataFrame(X, columns=cols)
    if output is None or table_format(output) != "npy":
        frame["component"] = y
    emit_table(frame, output)


@app.command(
    epilog="[bold]Examples[/]\n\n  emix score model.emix test.csv\n\n  emix score model.emix test.csv --json",
)
@handle_errors
def score(
    model_path: ModelArg,
    data: DataArg,
    columns: ColumnsOpt = None,
    header: HeaderOpt = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead.")] = False,
) -> None:
    """Print the mean log-likelihood per row of DATA under the model.

    Log-densities are in the data's own units: a standardisation stored at
    fit time is undone (its Jacobian included), so scores of models fitted
    with and without --standardize can be compared.
    """
    model, stored, scaling, _ = load_model(model_path)
    table = read_for_model(data, model, stored, columns, None, header)
    per_row = model.score_samples(scaling.to_model(table.X)) - scaling.log_jacobian
    mean = float(per_row.mean())
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "mean_log_likelihood": mean,
                    "n_rows": int(per_row.size),
                    "total_log_likelihood": float(per_row.sum()),
                }
            )
            + "\n"
        )
    else:
        out_console().print(
            f"mean log-likelihood per row: {mean:.6f}  ({per_row.size} rows, total {per_row.sum():.6f})"
        )


def _parse_ks(text: str) -> list[int]:
    """``"1..9"``, ``"2,3,5"`` or ``"4"`` as a list of K values."""
    try:
        if ".." in text:
            lo, hi = (int(v) for v in text.split(".."))
            ks = list(range(lo, hi + 1))
        else:
            ks = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise Failure(f"-k {text!r}: give a range like 1..9, a list like 2,3,5 or one number") from None
    if not ks or min(ks) < 1:
        raise Failure(f"-k {text!r}: every K must be at least 1")
    return sorted(set(ks))


@app.command(
    "select",
    epilog="[bold]Examples[/]\n\n"
    "  emix select faithful.csv\n\n"
    "  emix select data.csv -k 1..6 --models EII,VII,EEE,VVV --plot bic.png -o best.emix\n\n"
    "  emix select data.parquet --criterion icl --table grid.csv",
)
@handle_errors
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
        Path | None, typer.Option("--plot", help="Criterion-versus-K picture, one line per model.")
    ] = Path("emix-select.png"),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also save the best model.")] = None,
    table_path: Annotated[
        Path | None, typer.Option("--table", help="Write every fit's numbers (CSV, TSV or Parquet).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = 0,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")
    ] = None,
    header: HeaderOpt = True,
) -> None:
    """Choose the covariance model and K by BIC (or ICL), as R's mclust does.

    Fits every (model, K), prints the criterion table in mclust's sign
    (2 log L - p log n: larger is better; NA where the covariance became
    singular), names the best fit, and draws the criterion against K.
    """
    from ..selection import select
    from ..sources.tables import read_table

    table = read_table(data, parse_columns(columns), header=header)
    names = None
    if models is not None:
        names = [m.strip() for m in models.split(",") if m.strip()]
        known = covariance_names()
        unknown = [m for m in names if m not in known]
        if unknown or not names:
            raise Failure(
                f"--models: unknown model(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(known)}"
            )
    ks = [k for k in _parse_ks(n_components) if k <= table.X.shape[0]]
    result = select(
        table.X, n_components=ks, models=names, criterion=criterion.value, random_state=seed, n_jobs=jobs
    )
    values = result.table(criterion.value)
    best = result.best
    console = out_console()
    console.print(
        f"{criterion.value.upper()} of every fit to {data.name} "
        "(mclust's sign: larger is better; NA: singular covariance)"
    )
    # as mclust prints it: K down, models across, in blocks as wide as the terminal
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
    console.print(
        f"best: [bold]{best.model}[/], K={best.n_components}: log-likelihood {best.log_likelihood:.6f}, "
        f"{best.n_parameters} parameters, BIC {best.bic:.3f}, ICL {best.icl:.3f}"
    )
    top = result.top(3)
    if len(top) > 1:
        console.print(
            "next: "
            + "; ".join(f"{r.model},{r.n_components} ({getattr(r, criterion.value):.3f})" for r in top[1:])
        )
    if table_path is not None:
        from ..sources.tables import write_table

        write_table(result.to_frame(), table_path)
        console.print(f"table written to {table_path}")
    if output is not None:
        scaling = Scaling(None, None)
        ll, bic, aic = criteria(result.best_estimator, table.X, scaling)
        write_model(
            result.best_estimator, output, table.columns, scaling, table.X.shape[0], str(data), ll, bic, aic
        )
        console.print(f"best model written to {output}")
    if plot is not None:
        from ..teach.plot import plot_criterion, save_figure

        save_figure(plot_criterion(result, criterion.value), plot, dpi=110)
        console.print(f"picture written to {plot}")


@app.command(epilog="[bold]Example[/]\n\n  emix info model.emix")
@handle_errors
def info(model_path: ModelArg) -> None:
    """Print the summary of a model file: components, log-likelihood, BIC, AIC, convergence."""
    model, cols, scaling, cli = load_model(model_path)

    def num(key: str) -> float | None:
        v = cli.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    n = cli.get("n_samples") if isinstance(cli.get("n_samples"), int) else None
    ll = num("log_likelihood")
    if ll is None:
        ll = float(model.log_likelihood_)
    stats = fit_stats(model, n, ll, num("bic"), num("aic"), scaling)
    if isinstance(cli.get("data"), str):
        stats = {"fitted to": cli["data"], **stats}
    title = f"{type(model).__name__}, K={model.n_components}, {model.n_features_in_} features ({model_path})"
    console = out_console()
    for part in summary(model, cols, scaling, stats, title):
        console.print(part)


@app.command(epilog="[bold]Examples[/]\n\n  emix demo\n\n  emix demo --out /tmp/emix-demo --no-animate")
@handle_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the model and the pictures.")] = Path(
        "emix-demo"
    ),
    animate: Annotated[bool, typer.Option("--animate/--no-animate", help="Write the EM animation.")] = True,
) -> None:
    """Fit the bundled Old Faithful data (K=3, tied covariance) and draw it.

    Writes into OUT: faithful.csv, model.emix, clusters.png (clusters, 1 and
    2 sigma ellipses, density contours), convergence.png, em.gif (EM
    iteration by iteration) and trace.png (the lecture example's E/M staircase).
    """
    import pandas as pd

    from ..datasets import FAITHFUL_COLUMNS, load_faithful
    from ..estimators.gaussian import GaussianMixture
    from ..sources.tables import write_table
    from ..teach.plot import animate_em, plot_clusters, plot_convergence, plot_trace, save_figure
    from ..teach.trace import em_path, trace_lecture_example

    out.mkdir(parents=True, exist_ok=True)
    X = load_faithful()
    write_table(pd.DataFrame(X, columns=list(FAITHFUL_COLUMNS)), out / "faithful.csv")
    model = GaussianMixture(3, covariance_type="tied", tol=1e-10, max_iter=1000, random_state=0)
    model.fit(X)
    none = Scaling(None, None)
    ll, bic, aic = criteria(model, X, none)
    write_model(model, out / "model.emix", FAITHFUL_COLUMNS, none, X.shape[0], "faithful.csv", ll, bic, aic)
    console = out_console()
    console.print(f"Old Faithful: {X.shape[0]} eruptions, columns {', '.join(FAITHFUL_COLUMNS)}")
    for part in summary(
        model,
        FAITHFUL_COLUMNS,
        none,
        fit_stats(model, X.shape[0], ll, bic, aic, none),
        "GaussianMixture, K=3, tied covariance",
    ):
        console.print(part)
    console.print("(mclust's optimum for this model, EEE with K=3: log-likelihood -1126.315928)")
    written = ["faithful.csv", "model.emix"]
    save_figure(
        plot_clusters(
            model, X, feature_names=FAITHFUL_COLUMNS, title="Old Faithful, 3 components (tied covariance)"
        ),
        out / "clusters.png",
    )
    save_figure(plot_convergence(model.history_), out / "convergence.png")
    save_figure(plot_trace(trace_lecture_example(3)), out / "trace.png")
    written += ["clusters.png", "convergence.png", "trace.png"]
    if animate:
        path = em_path(model, X)
        animate_em(
            X, path, out / "em.gif", covariance_type="tied", feature_names=FAITHFUL_COLUMNS, max_frames=40
        )
        written.append("em.gif")
    console.print(f"wrote {out}/: {', '.join(written)}")


def _prob(q: float) -> str:
    return (
        f"{q:.6f}"
        if q in (0.0, 1.0) or 1e-4 <= q <= 1 - 1e-4
        else f"{q:.3e}"
        if q < 0.5
        else f"1 - {1 - q:.2e}"
    )


def _matrix(m: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(f"{v:.4f}" for v in row) for row in m) + "]"


def _print_trace(trace, console: Console) -> None:
    X = trace.X
    n, d = X.shape
    k = trace.initial.weights.size

    def numbers(s) -> str:
        return f"ln p(X|θ) = {s.log_likelihood:.6f}   L(q,θ) = {s.lower_bound:.6f}   KL(q‖p) = {s.kl:.3g}"

    def params_table(s, title: str) -> RichTable:
        t = RichTable(title=title, title_justify="left", show_edge=False, header_style="bold")
        t.add_column("k", justify="right")
        t.add_column("π_k", justify="right")
        t.add_column("μ_k", justify="right")
        t.add_column("Σ_k")
        for j in range(k):
            t.add_row(
                str(j),
                f"{s.weights[j]:.4f}",
                " ".join(f"{v:.4f}" for v in s.means[j]),
                _matrix(s.covariances[j]),
            )
        return t

    console.print(
        f"[bold]EM step by step[/]: {n} points, {d} features, K={k}, covariance "
        f"{trace.covariance_type}, reg_covar={trace.reg_covar:g}"
    )
    console.print(params_table(trace.initial, "start θ⁰"))
    console.print(numbers(trace.initial))
    for s in trace.steps:
        console.print()
        if s.step == "E":
            console.rule(f"iteration {s.iteration}: E-step   q_nk = p(k | x_n, θ)")
            t = RichTable(show_edge=False, header_style="bold")
            t.add_column("n", justify="right")
            t.add_column("x_n", justify="right")
            for j in range(k):
                t.add_column(f"q_n{j}", justify="right")
            for i in range(n):
                t.add_row(
                    str(i + 1), " ".join(f"{v:g}" for v in X[i]), *(_prob(q) for q in s.responsibilities[i])
                )
            console.print(t)
            console.print(numbers(s))
            console.print("[green]the E-step closes the gap: KL = 0, L = ln p(X|θ)[/]")
        else:
            console.rule(f"iteration {s.iteration}: M-step   θ = argmax L(q, θ)")
            console.print(params_table(s, ""))
            console.print(numbers(s))
            console.print("[green]the M-step raises the bound L, and ln p(X|θ) with it[/]")
    console.print()
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
    console.print(t)


@app.command(
    epilog="[bold]Examples[/]\n\n"
    "  emix trace                        # the lecture example\n\n"
    "  emix trace --iterations 5 --plot staircase.png\n\n"
    "  emix trace small.csv -k 3 --seed 1\n\n"
    "  emix trace --format json > trace.json",
)
@handle_errors
def trace(
    data: Annotated[
        Path | None,
        typer.Argument(help="A small data file (default: the lecture example).", show_default=False),
    ] = None,
    n_components: Annotated[
        int | None, typer.Option("-k", "--n-components", help="K (needed with DATA).")
    ] = None,
    iterations: Annotated[int, typer.Option("--iterations", "-i", help="E/M pairs to show.", min=1)] = 3,
    covariance: Annotated[Covariance, typer.Option("--covariance", help="Covariance model.")] = Covariance[
        "full"
    ],
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
        _print_trace(tr, out_console())
    if plot is not None:
        from ..teach.plot import plot_trace, save_figure

        save_figure(plot_trace(tr), plot)
        (err() if fmt is TraceFormat.json else out_console()).print(f"picture written to {plot}")


def main() -> None:
    """Console entry point ``emix``."""
    app(prog_name="emix")


if __name__ == "__main__":  # pragma: no cover
    main()
