"""The ``emix`` command: fit, predict, sample, score, info, demo and trace.

Needs the ``cli`` extra (Typer, Rich, pandas, pyarrow); the pictures need the
``plot`` extra (matplotlib, pillow). This is the only module of emix that
prints. Every error is reported as one line on stderr with a non-zero exit
status, never as a traceback (set ``EMIX_DEBUG=1`` to see one).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import json
import logging
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table as RichTable

from ..exceptions import EmixError

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


def _covariance_names() -> list[str]:
    from ..families.gaussian import COVARIANCE_MODELS

    return list(COVARIANCE_MODELS)


# the four scikit-learn names and the 14 mclust names (EII ... VVV)
Covariance = enum.Enum("Covariance", {name: name for name in _covariance_names()}, type=str)


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
        raise _Failure(f"--covariance applies to the gaussian and student families, not {family.value}")
    return Mixture(k, family=family.value, **common)


class Criterion(str, enum.Enum):
    bic = "bic"
    icl = "icl"
    aic = "aic"


class TraceFormat(str, enum.Enum):
    text = "text"
    json = "json"


class _Failure(Exception):
    """A user-facing error raised inside the command module."""


def _out() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _error_line(message: str) -> None:
    # plain write: Rich markup in user text (brackets) must not be interpreted
    sys.stderr.write(f"emix: error: {message}\n")
    sys.stderr.flush()


def _command(fn: Callable) -> Callable:
    """Turn exceptions into one line on stderr and an exit status; show warnings as one line."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen: set[str] = set()

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            text = str(message)
            if text not in seen:
                seen.add(text)
                sys.stderr.write(f"emix: warning: {text}\n")

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            try:
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, SystemExit):
                raise
            except KeyboardInterrupt:
                _error_line("interrupted")
                raise typer.Exit(130) from None
            except (_Failure, EmixError, OSError, ValueError, TypeError, ImportError) as exc:
                if os.environ.get("EMIX_DEBUG"):
                    raise
                _error_line(_describe(exc))
                raise typer.Exit(1) from None
            except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
                if os.environ.get("EMIX_DEBUG"):
                    raise
                _error_line(f"internal error: {type(exc).__name__}: {exc} (set EMIX_DEBUG=1 for details)")
                raise typer.Exit(1) from None

    return wrapper


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ImportError):
        return f"{exc}; install the extras with: pip install 'emix[cli,plot]'"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# -- model files and data ---------------------------------------------------------------------------


class _Scaling:
    """``X_model = (X - loc) / scale``; identity when the model was fitted on raw data."""

    def __init__(self, loc: np.ndarray | None, scale: np.ndarray | None) -> None:
        self.loc = loc
        self.scale = scale

    @property
    def active(self) -> bool:
        return self.loc is not None

    def to_model(self, X: np.ndarray) -> np.ndarray:
        return X if not self.active else (X - self.loc) / self.scale

    def to_data(self, Z: np.ndarray) -> np.ndarray:
        return Z if not self.active else Z * self.scale + self.loc

    @property
    def log_jacobian(self) -> float:
        """``sum_d ln scale_d``: subtract it from a per-row log-density in model units."""
        return 0.0 if not self.active else float(np.log(self.scale).sum())

    def to_json(self) -> dict[str, list[float]] | None:
        if not self.active:
            return None
        return {"loc": self.loc.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_json(cls, value: Any, d: int, path: Path) -> _Scaling:
        if value is None:
            return cls(None, None)
        try:
            loc = np.asarray(value["loc"], dtype=np.float64)
            scale = np.asarray(value["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise _Failure(f"{path}: the stored standardisation is malformed") from None
        if loc.shape != (d,) or scale.shape != (d,) or not np.isfinite(loc).all() or not (scale > 0).all():
            raise _Failure(f"{path}: the stored standardisation does not fit a {d}-feature model")
        return cls(loc, scale)


def _parse_columns(columns: str | None) -> list[str] | None:
    if columns is None:
        return None
    names = [c.strip() for c in columns.split(",") if c.strip()]
    if not names:
        raise _Failure("--columns is empty; give names separated by commas, e.g. --columns a,b")
    return names


def _load_model(path: Path):
    from ..io import load

    model, extra = load(path, return_extra=True)
    cli = extra.get("cli") if isinstance(extra.get("cli"), dict) else {}
    d = int(model.n_features_in_)
    cols = cli.get("columns")
    if not (isinstance(cols, list) and len(cols) == d and all(isinstance(c, str) for c in cols)):
        cols = [f"x{i}" for i in range(d)]
    scaling = _Scaling.from_json(cli.get("standardize"), d, path)
    return model, cols, scaling, cli


def _read_for_model(
    data: Path, model, stored: list[str], columns: str | None, id_column: str | None, header: bool
):
    """Read the model's features from ``data``: --columns, else the stored names, else by position."""
    from ..sources.tables import read_table

    chosen = _parse_columns(columns)
    d = int(model.n_features_in_)
    if chosen is None:
        try:
            table = read_table(data, stored, id_column=id_column, header=header, allow_missing=True)
        except EmixError as exc:
            if "not found" not in str(exc):
                raise
            table = read_table(data, None, id_column=id_column, header=header, allow_missing=True)
            if table.X.shape[1] != d:
                raise _Failure(
                    f"{data}: the model needs the columns {', '.join(stored)} ({d} features), but the file "
                    f"has {', '.join(table.columns)}; choose them with --columns"
                ) from None
    else:
        table = read_table(data, chosen, id_column=id_column, header=header, allow_missing=True)
    if table.X.shape[1] != d:
        raise _Failure(f"{data}: {table.X.shape[1]} columns selected, but the model has {d} features")
    return table


def _write_model(
    model,
    path: Path,
    columns: Sequence[str],
    scaling: _Scaling,
    n: int,
    data: str,
    ll: float,
    bic: float,
    aic: float,
) -> None:
    from ..io import save_model

    extra = {
        "cli": {
            "columns": list(columns),
            "standardize": scaling.to_json(),
            "data": data,
            "n_samples": int(n),
            "log_likelihood": ll,
            "bic": bic,
            "aic": aic,
        }
    }
    save_model(model, path, extra=extra)


def _emit_table(frame, output: Path | None) -> None:
    """Write ``frame`` atomically to ``output``, or as CSV to stdout when it is None."""
    from ..sources.tables import write_table

    text = write_table(frame, output)
    if text is not None:
        sys.stdout.write(text)
    else:
        _err().print(f"{len(frame)} rows written to {output}")


# -- summaries ------------------------------------------------------------------------------------------


def _fmt(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}g}" if math.isfinite(x) else str(x)


def _summary(model, columns: Sequence[str], scaling: _Scaling, stats: dict[str, Any], title: str) -> list:
    """Rich renderables: the component table and the fit statistics."""
    parts = _component_arrays(model, columns, scaling)
    comp = RichTable(title=title, title_justify="left", show_edge=False, header_style="bold")
    comp.add_column("k", justify="right")
    comp.add_column("weight", justify="right")
    for head, _ in parts:
        comp.add_column(head, justify="right")
    order = np.argsort(-np.asarray(model.weights_), kind="stable")
    for k in order:
        comp.add_row(str(k), f"{model.weights_[k]:.4f}", *(_fmt(values[k]) for _, values in parts))
    info = RichTable(show_header=False, show_edge=False, box=None, pad_edge=False)
    info.add_column(style="bold")
    info.add_column()
    for key, value in stats.items():
        info.add_row(key, value)
    return [comp, "", info]


def _component_arrays(model, columns: Sequence[str], scaling: _Scaling) -> list[tuple[str, np.ndarray]]:
    """Per-component numbers to show, one (header, values of shape (K,)) per table column.

    Gaussian and Student-t: the means in data units. Other families: each
    parameter array of shape (K, D), e.g. ``probabilities`` or ``rates``.
    """
    k, d = len(model.weights_), len(columns)
    if np.shape(getattr(model, "means_", None)) == (k, d):
        means = scaling.to_data(np.asarray(model.means_))
        return [(f"mean {c}", means[:, j]) for j, c in enumerate(columns)]
    out = []
    for name in model._make_family().array_names():
        arr = np.asarray(getattr(model, f"{name}_", None))
        if arr.shape == (k, d):
            out += [(f"{name} {c}", arr[:, j]) for j, c in enumerate(columns)]
    return out


def _model_kind(model) -> str:
    """``gaussian, covariance tied``, ``student-t, covariance full``, ``bernoulli``..."""
    spec = model._make_family().spec() if hasattr(model._make_family(), "spec") else {}
    name = {"student": "student-t"}.get(spec.get("family", "gaussian"), spec.get("family", "gaussian"))
    cov = getattr(model, "covariance_type", None) or spec.get("covariance_type")
    return f"{name}, covariance {cov}" if cov else name


def _fit_stats(
    model, n: int | None, ll: float | None, bic: float | None, aic: float | None, scaling: _Scaling
) -> dict[str, str]:
    out = {
        "model": _model_kind(model) + ("  (features standardised)" if scaling.active else ""),
    }
    if n is not None:
        out["rows"] = str(n)
    if ll is not None:
        out["log-likelihood"] = f"{ll:.6f}"
        if n:
            out["per row"] = f"{ll / n:.6f}"
    if bic is not None:
        out["BIC"] = f"{bic:.3f}"
    if aic is not None:
        out["AIC"] = f"{aic:.3f}"
    out["iterations"] = str(model.n_iter_)
    out["converged"] = "yes" if model.converged_ else "no (raise --max-iter or --tol)"
    return out


def _criteria(
    model, Z: np.ndarray, scaling: _Scaling, weights: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Total log-likelihood in data units, BIC and AIC (scikit-learn's sign: smaller is better).

    With row weights the log-likelihood is the weighted sum (what the fit
    maximised) and BIC's sample size is the sum of the weights.
    """
    w = np.ones(Z.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    n = float(w.sum())
    ll = float(w @ model.score_samples(Z)) - n * scaling.log_jacobian
    p = model._n_parameters()
    return ll, -2 * ll + p * math.log(n), -2 * ll + 2 * p


# -- progress -----------------------------------------------------------------------------------------


class _ProgressHandler(logging.Handler):
    """Feeds the engine's per-iteration log records ("iteration %d: log-likelihood %g") to a callback."""

    def __init__(self, on_iteration: Callable[[int, float], None]) -> None:
        super().__init__(logging.INFO)
        self.on_iteration = on_iteration

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg.startswith("iteration") and isinstance(args, tuple) and len(args) == 2:
            self.on_iteration(int(args[0]), float(args[1]))


@contextlib.contextmanager
def _fit_progress(show: bool, max_iter: int, n_init: int) -> Iterator[None]:
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
        console=_err(),
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
    handler = _ProgressHandler(on_iteration)
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


# -- commands ----------------------------------------------------------------------------------------------

DataArg = Annotated[Path, typer.Argument(help="CSV, TSV, Parquet or .npy file.", show_default=False)]
ModelArg = Annotated[Path, typer.Argument(help="Model file written by 'emix fit'.", show_default=False)]
ColumnsOpt = Annotated[
    str | None, typer.Option("--columns", "-c", help="Comma-separated columns to use (default: all).")
]
IdOpt = Annotated[
    str | None, typer.Option("--id", help="Column copied unchanged to the output (e.g. a row id).")
]
HeaderOpt = Annotated[
    bool, typer.Option("--header/--no-header", help="Whether a CSV/TSV file starts with column names.")
]


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

    source = file_source(data, _parse_columns(columns), weights=weights, header=header)
    model = _make_estimator(family, n_components, covariance, tol, reg_covar, max_iter, n_init, init, seed)
    show = _err().is_terminal if progress is None else progress
    with _fit_progress(show, max_iter, n_init):
        model.fit(source)
    n = source.n_samples
    ll = model.score(source) * n
    p = model._n_parameters()
    bic, aic = -2 * ll + p * math.log(n), -2 * ll + 2 * p
    scaling = _Scaling(None, None)
    _write_model(model, output, source.columns, scaling, n, str(data), ll, bic, aic)
    console = _out()
    for part in _summary(
        model,
        source.columns,
        scaling,
        _fit_stats(model, n, ll, bic, aic, scaling),
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
@_command
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
        raise _Failure("--weights and --labels name the same column")
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
            raise _Failure(f"{unsupported[0]} needs the data in memory; use --no-stream (or leave it out)")
        if table_format(data) == "npy":
            raise _Failure(f"{data}: --stream reads CSV, TSV and Parquet files, not .npy")
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
        _parse_columns(columns),
        header=header,
        allow_missing=True,
        extra=[weights] if weights else [],
        extra_with_missing=[labels] if labels else [],
    )
    X = table.X
    clash = [c for c in extra if c in table.columns]
    if clash:
        raise _Failure(
            f"column {clash[0]!r} is both a feature and --weights/--labels; leave it out of --columns"
        )
    scaling = _Scaling(None, None)
    if standardize:
        if family not in (Family.gaussian, Family.student):
            raise _Failure(f"--standardize applies to the gaussian and student families, not {family.value}")
        scale = np.nanstd(X, axis=0)
        if (scale == 0).any():
            bad = table.columns[int(np.flatnonzero(scale == 0)[0])]
            raise _Failure(f"{data}: column {bad!r} is constant; it cannot be standardised (drop it)")
        scaling = _Scaling(np.nanmean(X, axis=0), scale)
    Z = scaling.to_model(X)
    model = _make_estimator(
        family, n_components, covariance.value, tol, reg_covar, max_iter, n_init, init, seed
    )
    y = None
    if labels is not None:
        y = table.extra[labels]
        y = np.where(np.isnan(y), -1, y)
        if (y != np.round(y)).any():
            raise _Failure(f"--labels: column {labels!r} must hold whole numbers (component index or -1)")
        y = y.astype(np.int64)
    show = _err().is_terminal if progress is None else progress
    with _fit_progress(show, max_iter, n_init):
        model.fit(Z, labels=y, sample_weight=table.extra.get(weights) if weights else None)
    ll, bic, aic = _criteria(model, Z, scaling, table.extra.get(weights) if weights else None)
    _write_model(model, output, table.columns, scaling, X.shape[0], str(data), ll, bic, aic)
    console = _out()
    stats = _fit_stats(model, X.shape[0], ll, bic, aic, scaling)
    if weights:
        total = float(table.extra[weights].sum())
        stats["rows"] = f"{X.shape[0]} (total weight {total:g})"
        stats["per row"] = f"{ll / total:.6f} (per unit of weight)"
    for part in _summary(
        model,
        table.columns,
        scaling,
        stats,
        f"{type(model).__name__}, K={n_components}, fitted to {data.name}",
    ):
        console.print(part)
    console.print(f"model written to {output}")
    if (plot is not None or animate is not None) and family is not Family.gaussian:
        raise _Failure("--plot and --animate draw Gaussian mixtures only")
    if plot is not None:
        from ..teach.plot import plot_clusters, save_figure

        save_figure(
            plot_clusters(model, X, feature_names=table.columns, loc=scaling.loc, scale=scaling.scale), plot
        )
        console.print(f"picture written to {plot}")
    if animate is not None:
        if X.shape[1] < 2:
            raise _Failure("--animate needs at least two columns")
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
@_command
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

    model, stored, scaling, _ = _load_model(model_path)
    table = _read_for_model(data, model, stored, columns, id_column, header)
    Z = scaling.to_model(table.X)
    out: dict[str, Any] = {}
    if table.id_name is not None:
        out[table.id_name] = table.ids
    out["label"] = model.predict(Z)
    if proba:
        resp = model.predict_proba(Z)
        for k in range(resp.shape[1]):
            out[f"proba_{k}"] = resp[:, k]
    _emit_table(pd.DataFrame(out), output)


@app.command(
    epilog="[bold]Examples[/]\n\n"
    "  emix sample model.emix -n 1000 -o synthetic.csv\n\n"
    "  emix sample model.emix -n 5 --seed 1",
)
@_command
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

    model, cols, scaling, _ = _load_model(model_path)
    model.set_params(random_state=seed)
    Z, y = model.sample(n)
    X = scaling.to_data(Z)
    frame = pd.DataFrame(X, columns=cols)
    if output is None or table_format(output) != "npy":
        frame["component"] = y
    _emit_table(frame, output)


@app.command(
    epilog="[bold]Examples[/]\n\n  emix score model.emix test.csv\n\n  emix score model.emix test.csv --json",
)
@_command
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
    model, stored, scaling, _ = _load_model(model_path)
    table = _read_for_model(data, model, stored, columns, None, header)
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
        _out().print(
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
        raise _Failure(f"-k {text!r}: give a range like 1..9, a list like 2,3,5 or one number") from None
    if not ks or min(ks) < 1:
        raise _Failure(f"-k {text!r}: every K must be at least 1")
    return sorted(set(ks))


@app.command(
    "select",
    epilog="[bold]Examples[/]\n\n"
    "  emix select faithful.csv\n\n"
    "  emix select data.csv -k 1..6 --models EII,VII,EEE,VVV --plot bic.png -o best.emix\n\n"
    "  emix select data.parquet --criterion icl --table grid.csv",
)
@_command
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

    table = read_table(data, _parse_columns(columns), header=header)
    names = None
    if models is not None:
        names = [m.strip() for m in models.split(",") if m.strip()]
        known = _covariance_names()
        unknown = [m for m in names if m not in known]
        if unknown or not names:
            raise _Failure(
                f"--models: unknown model(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(known)}"
            )
    ks = [k for k in _parse_ks(n_components) if k <= table.X.shape[0]]
    result = select(
        table.X, n_components=ks, models=names, criterion=criterion.value, random_state=seed, n_jobs=jobs
    )
    values = result.table(criterion.value)
    best = result.best
    console = _out()
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
        scaling = _Scaling(None, None)
        ll, bic, aic = _criteria(result.best_estimator, table.X, scaling)
        _write_model(
            result.best_estimator, output, table.columns, scaling, table.X.shape[0], str(data), ll, bic, aic
        )
        console.print(f"best model written to {output}")
    if plot is not None:
        from ..teach.plot import plot_criterion, save_figure

        save_figure(plot_criterion(result, criterion.value), plot, dpi=110)
        console.print(f"picture written to {plot}")


@app.command(epilog="[bold]Example[/]\n\n  emix info model.emix")
@_command
def info(model_path: ModelArg) -> None:
    """Print the summary of a model file: components, log-likelihood, BIC, AIC, convergence."""
    model, cols, scaling, cli = _load_model(model_path)

    def num(key: str) -> float | None:
        v = cli.get(key)
        return float(v) if isinstance(v, (int, float)) else None

    n = cli.get("n_samples") if isinstance(cli.get("n_samples"), int) else None
    ll = num("log_likelihood")
    if ll is None:
        ll = float(model.log_likelihood_)
    stats = _fit_stats(model, n, ll, num("bic"), num("aic"), scaling)
    if isinstance(cli.get("data"), str):
        stats = {"fitted to": cli["data"], **stats}
    title = f"{type(model).__name__}, K={model.n_components}, {model.n_features_in_} features ({model_path})"
    console = _out()
    for part in _summary(model, cols, scaling, stats, title):
        console.print(part)


@app.command(epilog="[bold]Examples[/]\n\n  emix demo\n\n  emix demo --out /tmp/emix-demo --no-animate")
@_command
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
    none = _Scaling(None, None)
    ll, bic, aic = _criteria(model, X, none)
    _write_model(model, out / "model.emix", FAITHFUL_COLUMNS, none, X.shape[0], "faithful.csv", ll, bic, aic)
    console = _out()
    console.print(f"Old Faithful: {X.shape[0]} eruptions, columns {', '.join(FAITHFUL_COLUMNS)}")
    for part in _summary(
        model,
        FAITHFUL_COLUMNS,
        none,
        _fit_stats(model, X.shape[0], ll, bic, aic, none),
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
@_command
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
            raise _Failure("-k and --columns go with DATA; the lecture example has K=2")
        if covariance is not Covariance["full"]:
            raise _Failure("the lecture example uses full covariances; give DATA to try others")
        tr = trace_lecture_example(iterations)
    else:
        if n_components is None:
            raise _Failure("give the number of components with -k when tracing DATA")
        from ..sources.tables import read_table

        table = read_table(data, _parse_columns(columns), header=header)
        tr = trace_em(
            table.X, n_components, n_iter=iterations, covariance_type=covariance.value, random_state=seed
        )
    if fmt is TraceFormat.json:
        sys.stdout.write(json.dumps(tr.to_dict(), indent=1) + "\n")
    else:
        _print_trace(tr, _out())
    if plot is not None:
        from ..teach.plot import plot_trace, save_figure

        save_figure(plot_trace(tr), plot)
        (_err() if fmt is TraceFormat.json else _out()).print(f"picture written to {plot}")


def main() -> None:
    """Console entry point ``emix``."""
    app(prog_name="emix")


if __name__ == "__main__":  # pragma: no cover
    main()
