"""``emix fit``: fit a mixture to a table, in memory or streamed, report it and save the model."""

from __future__ import annotations

import enum
import math
import warnings
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from .console import err, out
from .errors import Failure
from .files import Scaling, write_model
from .options import ColumnsOpt, Covariance, DataArg, HeaderOpt, parse_columns
from .progress import fit_progress
from .summary import criteria, fit_stats, summary

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix fit faithful.csv -k 3 --covariance tied -o faithful.emix\n\n"
    "  emix fit data.parquet -k 4 --columns height,weight --standardize --n-init 5 -o model.emix\n\n"
    "  emix fit points.npy -k 2 -o model.emix --plot clusters.png --animate em.gif\n\n"
    "  emix fit huge.parquet -k 5 --stream -o huge.emix"
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
    console = out()
    for part in summary(
        model,
        source.columns,
        scaling,
        fit_stats(model, n, ll, bic, aic, scaling),
        f"{type(model).__name__}, K={n_components}, fitted to {data.name} (streamed)",
    ):
        console.print(part)
    console.print(f"model written to {output}")


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
    console = out()
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
