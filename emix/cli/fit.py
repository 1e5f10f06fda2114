"""``emix fit``: fit a mixture to a table, in memory or streamed, report it and save the model."""

from __future__ import annotations

import dataclasses
import enum
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console

from .console import err, out
from .errors import Failure
from .files import Scaling, write_model
from .options import ColumnsOpt, Covariance, CovarianceOpt, DataArg, HeaderOpt, parse_columns
from .progress import fit_progress
from .summary import bic_aic, criteria, fit_stats, summary

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix fit faithful.csv -k 3 --covariance tied -o faithful.emix\n\n"
    "  emix fit data.parquet -k 4 --columns height,weight --standardize --n-init 5 -o model.emix\n\n"
    "  emix fit points.npy -k 2 -o model.emix --plot clusters.png --animate em.gif\n\n"
    "  emix fit huge.parquet -k 5 --stream -o huge.emix"
)

#: files larger than this are fitted by streaming (``emix fit --stream``) unless --no-stream is given
STREAM_BYTES = 1 << 30


class Family(str, enum.Enum):
    """The values of ``--family``."""

    gaussian = "gaussian"
    student = "student"
    bernoulli = "bernoulli"
    categorical = "categorical"
    poisson = "poisson"
    exponential = "exponential"


# -- the options only fit has ---------------------------------------------------------------------------

NComponentsOpt = Annotated[int, typer.Option("-k", "--n-components", help="Number of components K.")]
OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="Model file to write.", show_default=False)]
StandardizeOpt = Annotated[
    bool,
    typer.Option(
        "--standardize",
        help="Centre and scale each column; stored in the model, so "
        "predict, sample and score use the data's own units.",
    ),
]
NInitOpt = Annotated[int, typer.Option("--n-init", help="Initialisations; the best is kept.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (reproducible by default).")]
MaxIterOpt = Annotated[int, typer.Option("--max-iter", help="Maximum EM iterations per initialisation.")]
TolOpt = Annotated[float, typer.Option("--tol", help="Stop when the mean log-likelihood changes less.")]
RegCovarOpt = Annotated[float, typer.Option("--reg-covar", help="Jitter added to covariance diagonals.")]
InitOpt = Annotated[str, typer.Option("--init", help="kmeans, k-means++, random or random_from_data.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Also draw the clusters (PNG, SVG, PDF).")]
AnimateOpt = Annotated[Path | None, typer.Option("--animate", help="Also write an animated GIF of EM.")]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar with the log-likelihood (default: when stderr is a terminal).",
        show_default=False,
    ),
]
FamilyOpt = Annotated[Family, typer.Option("--family", help="Component family (see docs/families.md).")]
WeightsOpt = Annotated[
    str | None, typer.Option("--weights", help="Column of non-negative row weights (not a feature).")
]
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="Column of known components (0..K-1) for some rows, -1 or empty for "
        "the others: semi-supervised EM (not a feature).",
    ),
]
StreamOpt = Annotated[
    bool | None,
    typer.Option(
        "--stream/--no-stream",
        help="Read the CSV/Parquet file in chunks on every EM pass "
        "instead of loading it, so it may be larger than memory (default: for files over "
        f"{STREAM_BYTES >> 20} MiB).",
        show_default=False,
    ),
]


@dataclasses.dataclass(frozen=True)
class EstimatorSettings:
    """What ``emix fit`` builds its estimator from: ``--family``, ``-k`` and the EM options."""

    family: Family
    n_components: int
    covariance: str
    tol: float
    reg_covar: float
    max_iter: int
    n_init: int
    init: str
    seed: int | None

    def build(self) -> Any:
        """The unfitted estimator for ``--family``.

        Returns
        -------
        GaussianMixture, StudentMixture or Mixture

        Raises
        ------
        Failure
            When ``--covariance`` is given for a family without covariances.
        """
        from ..estimators.gaussian import GaussianMixture
        from ..estimators.named import Mixture, StudentMixture

        common = dict(
            tol=self.tol,
            max_iter=self.max_iter,
            n_init=self.n_init,
            init_params=self.init,
            random_state=self.seed,
        )
        k, family = self.n_components, self.family
        if family is Family.gaussian:
            return GaussianMixture(k, covariance_type=self.covariance, reg_covar=self.reg_covar, **common)
        if family is Family.student:
            return StudentMixture(k, covariance_type=self.covariance, reg_covar=self.reg_covar, **common)
        if self.covariance != "full":
            raise Failure(f"--covariance applies to the gaussian and student families, not {family.value}")
        return Mixture(k, family=family.value, **common)


def fit(
    data: DataArg,
    n_components: NComponentsOpt,
    output: OutputOpt,
    covariance: CovarianceOpt = Covariance["full"],
    columns: ColumnsOpt = None,
    standardize: StandardizeOpt = False,
    n_init: NInitOpt = 1,
    seed: SeedOpt = 0,
    max_iter: MaxIterOpt = 100,
    tol: TolOpt = 1e-3,
    reg_covar: RegCovarOpt = 1e-6,
    init: InitOpt = "kmeans",
    header: HeaderOpt = True,
    plot: PlotOpt = None,
    animate: AnimateOpt = None,
    progress: ProgressOpt = None,
    family: FamilyOpt = Family.gaussian,
    weights: WeightsOpt = None,
    labels: LabelsOpt = None,
    stream: StreamOpt = None,
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
    from ..sources.tables import table_format

    settings = EstimatorSettings(
        family, n_components, covariance.value, tol, reg_covar, max_iter, n_init, init, seed
    )
    if weights is not None and weights == labels:
        raise Failure("--weights and --labels name the same column")
    if stream is None:
        stream = table_format(data) != "npy" and data.is_file() and data.stat().st_size > STREAM_BYTES
    if stream:
        _check_streamable(data, standardize=standardize, labels=labels, plot=plot, animate=animate)
        _fit_streamed(data, output, settings, columns, header, progress, weights)
        return
    table = _read_data(data, columns, header, weights, labels)
    scaling = _standardisation(data, table, family) if standardize else Scaling(None, None)
    Z = scaling.to_model(table.X)
    model = settings.build()
    y = _known_labels(table, labels)
    w = table.extra.get(weights) if weights else None
    _run_em(model, settings, progress, Z, labels=y, sample_weight=w)
    ll, bic, aic = criteria(model, Z, scaling, w)
    write_model(model, output, table.columns, scaling, table.X.shape[0], str(data), ll, bic, aic)
    stats = fit_stats(model, table.X.shape[0], ll, bic, aic, scaling)
    if weights:
        total = float(table.extra[weights].sum())
        stats["rows"] = f"{table.X.shape[0]} (total weight {total:g})"
        stats["per row"] = f"{ll / total:.6f} (per unit of weight)"
    title = f"{type(model).__name__}, K={n_components}, fitted to {data.name}"
    console = _report(model, table.columns, scaling, stats, title, output)
    if (plot is not None or animate is not None) and family is not Family.gaussian:
        raise Failure("--plot and --animate draw Gaussian mixtures only")
    if plot is not None:
        _draw_clusters(console, model, table, scaling, plot)
    if animate is not None:
        _animate(console, model, table, Z, scaling, animate)


# -- the steps, in the order fit takes them -----------------------------------------------------------------


def _check_streamable(
    data: Path, *, standardize: bool, labels: str | None, plot: Path | None, animate: Path | None
) -> None:
    """Refuse, with ``--stream``, a .npy file and the options that need the data in memory.

    Raises
    ------
    Failure
        Naming the first such option given, or the .npy file.
    """
    from ..sources.tables import table_format

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


def _fit_streamed(
    data: Path,
    output: Path,
    settings: EstimatorSettings,
    columns: str | None,
    header: bool,
    progress: bool | None,
    weights: str | None,
) -> None:
    """``emix fit --stream``: EM over a file source, re-reading the file on every pass.

    Reads, fits, writes and reports as the in-memory path does; the other
    parameters are the options of :func:`fit` of the same names.
    """
    from ..sources import file_source

    source = file_source(data, parse_columns(columns), weights=weights, header=header)
    model = settings.build()
    _run_em(model, settings, progress, source)
    n = source.n_samples
    ll = model.score(source) * n
    bic, aic = bic_aic(ll, model._n_parameters(), n)
    scaling = Scaling(None, None)
    write_model(model, output, source.columns, scaling, n, str(data), ll, bic, aic)
    title = f"{type(model).__name__}, K={settings.n_components}, fitted to {data.name} (streamed)"
    _report(model, source.columns, scaling, fit_stats(model, n, ll, bic, aic, scaling), title, output)


def _read_data(data: Path, columns: str | None, header: bool, weights: str | None, labels: str | None) -> Any:
    """Read the features, and the --weights and --labels columns beside them, into memory.

    Returns
    -------
    Table
        What :func:`emix.sources.tables.read_table` returns; the weights and
        labels are in ``table.extra``.

    Raises
    ------
    Failure
        When the weights or labels column is also a feature.
    """
    from ..sources.tables import read_table

    table = read_table(
        data,
        parse_columns(columns),
        header=header,
        allow_missing=True,
        extra=[weights] if weights else [],
        extra_with_missing=[labels] if labels else [],
    )
    clash = [c for c in (weights, labels) if c is not None and c in table.columns]
    if clash:
        raise Failure(
            f"column {clash[0]!r} is both a feature and --weights/--labels; leave it out of --columns"
        )
    return table


def _standardisation(data: Path, table: Any, family: Family) -> Scaling:
    """``--standardize``: each column's mean and standard deviation, ignoring missing values.

    Raises
    ------
    Failure
        For a family other than gaussian and student, or a constant column.
    """
    if family not in (Family.gaussian, Family.student):
        raise Failure(f"--standardize applies to the gaussian and student families, not {family.value}")
    X = table.X
    scale = np.nanstd(X, axis=0)
    if (scale == 0).any():
        bad = table.columns[int(np.flatnonzero(scale == 0)[0])]
        raise Failure(f"{data}: column {bad!r} is constant; it cannot be standardised (drop it)")
    return Scaling(np.nanmean(X, axis=0), scale)


def _known_labels(table: Any, labels: str | None) -> np.ndarray | None:
    """The ``--labels`` column as component indices, -1 where unknown (empty); None without it.

    Raises
    ------
    Failure
        When the column holds a number that is not whole.
    """
    if labels is None:
        return None
    y = table.extra[labels]
    y = np.where(np.isnan(y), -1, y)
    if (y != np.round(y)).any():
        raise Failure(f"--labels: column {labels!r} must hold whole numbers (component index or -1)")
    return y.astype(np.int64)


def _run_em(
    model: Any, settings: EstimatorSettings, progress: bool | None, X: Any, *args: Any, **kwargs: Any
) -> None:
    """``model.fit(X, *args, **kwargs)`` under the progress bar.

    ``progress`` is ``--progress``; None draws the bar when stderr is a terminal.
    """
    show = err().is_terminal if progress is None else progress
    with fit_progress(show, settings.max_iter, settings.n_init):
        model.fit(X, *args, **kwargs)


def _report(
    model: Any, columns: Sequence[str], scaling: Scaling, stats: dict[str, str], title: str, output: Path
) -> Console:
    """Print the model summary (see :func:`.summary.summary`) and where the model was written.

    Returns
    -------
    Console
        The console printed to, for what follows.
    """
    console = out()
    for part in summary(model, columns, scaling, stats, title):
        console.print(part)
    console.print(f"model written to {output}")
    return console


def _draw_clusters(console: Console, model: Any, table: Any, scaling: Scaling, plot: Path) -> None:
    """``--plot``: draw the clusters of ``table`` in the data's units, and say so on ``console``."""
    from ..teach.plot import plot_clusters, save_figure

    save_figure(
        plot_clusters(model, table.X, feature_names=table.columns, loc=scaling.loc, scale=scaling.scale), plot
    )
    console.print(f"picture written to {plot}")


def _animate(
    console: Console, model: Any, table: Any, Z: np.ndarray, scaling: Scaling, animate: Path
) -> None:
    """``--animate``: replay the fit on ``Z`` (model units) and write a GIF in the data's units.

    Raises
    ------
    Failure
        With fewer than two columns.
    """
    X = table.X
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
