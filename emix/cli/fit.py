"""``emix fit``: fit a mixture to a table, in memory or streamed, report it and save the model."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from .checks import warn_about_table
from .console import err, out
from .errors import Failure
from .files import Scaling, check_outputs, model_step, write_model
from .fit_options import (
    STREAM_BYTES,
    AnimateOpt,
    BayesianOpt,
    ConvergenceOpt,
    EqualWeightsOpt,
    EstimatorSettings,
    Family,
    FamilyOpt,
    InitOpt,
    LabelsOpt,
    MaxIterOpt,
    NComponentsOpt,
    NInitOpt,
    NoiseOpt,
    OutputOpt,
    PlotOpt,
    PlotWeightsOpt,
    PriorOpt,
    ProgressOpt,
    RegCovarOpt,
    RtolOpt,
    SeedOpt,
    StandardizeOpt,
    StreamOpt,
    TolOpt,
    WeightsOpt,
)
from .longfit import (
    BatchRowsOpt,
    CheckpointOpt,
    EpochsOpt,
    OnlineOpt,
    SchedulerOpt,
    check_online,
    checkpoint_file,
    dask_source,
    fit_epochs,
    on_scheduler,
    saved_on_interrupt,
    streamed_log_likelihood,
)
from .options import (
    ColumnsOpt,
    Covariance,
    CovarianceOpt,
    DataArg,
    ExcludeOpt,
    HeaderOpt,
    parse_columns,
    parse_exclude,
)
from .progress import fit_progress
from .summary import bic_aic, criteria, fit_stats, summary

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  emix fit faithful.csv -k 3 --covariance tied -o faithful.emix\n\n"
    "  emix fit data.parquet -k 4 --columns height,weight --standardize --n-init 5 -o model.emix\n\n"
    "  emix fit points.npy -k 2 -o model.emix --plot clusters.png --animate em.gif\n\n"
    "  emix fit huge.parquet -k 5 --stream -o huge.emix\n\n"
    "  emix fit faithful.csv -k 8 --bayesian -o vb.emix --plot-weights weights.png\n\n"
    "  emix fit faithful.csv -k 3 --covariance EEE --equal-weights -o equal.emix\n\n"
    "  emix fit faithful.csv -k 2 --covariance VVV --prior default --reg-covar 0 -o map.emix\n\n"
    "  emix fit huge.parquet -k 5 --online --epochs 3 -o huge.emix\n\n"
    "  emix fit huge.parquet -k 5 --stream --checkpoint huge.ckpt -o huge.emix"
)


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
    rtol: RtolOpt = 1e-8,
    convergence: ConvergenceOpt = "aitken",
    reg_covar: RegCovarOpt = 1e-6,
    init: InitOpt = "default",
    header: HeaderOpt = True,
    plot: PlotOpt = None,
    animate: AnimateOpt = None,
    progress: ProgressOpt = None,
    family: FamilyOpt = Family.gaussian,
    weights: WeightsOpt = None,
    labels: LabelsOpt = None,
    stream: StreamOpt = None,
    bayesian: BayesianOpt = False,
    equal_weights: EqualWeightsOpt = False,
    plot_weights: PlotWeightsOpt = None,
    exclude: ExcludeOpt = None,
    online: OnlineOpt = False,
    epochs: EpochsOpt = 3,
    batch_rows: BatchRowsOpt = 65536,
    checkpoint: CheckpointOpt = None,
    scheduler: SchedulerOpt = None,
    noise: NoiseOpt = False,
    prior: PriorOpt = None,
) -> None:
    """Fit a mixture to the numeric columns of a table and save the model.

    Empty cells and NaN are missing values: EM uses what is observed in each
    row (exactly, under missing-at-random). Prints the components (weight and
    means or parameters, in the data's units) and the log-likelihood, BIC and
    AIC (smaller is better), the number of EM iterations and whether EM
    converged. Files are written atomically.

    With --stream (the default for CSV/Parquet files over 1 GiB) the file is
    read in chunks on every EM pass instead of being loaded, so it may be
    larger than memory; the model is the same as without. With --online,
    online EM makes --epochs passes over the file, an M-step after every batch.
    With --checkpoint the fit saves its state at every iteration and resumes
    from the file when it exists; Ctrl-C saves the state (also without
    --checkpoint) and prints the command that resumes. With --scheduler the
    passes run on a Dask cluster.

    With --bayesian the mixture is fitted by variational Bayes and the
    summary gives its evidence lower bound instead of BIC and AIC.
    """
    from ..sources.tables import table_format

    settings = EstimatorSettings(
        family,
        n_components,
        covariance.value,
        tol,
        reg_covar,
        max_iter,
        n_init,
        init,
        seed,
        rtol,
        convergence,
    )
    settings = dataclasses.replace(
        settings, bayesian=bayesian, equal_weights=equal_weights, noise=noise, prior=prior
    )
    _check_options(weights, labels, plot_weights, bayesian)
    _check_pictures(family, plot, animate)
    check_outputs(output, plot, animate)
    left_out = parse_exclude(exclude, columns)
    if online:
        if prior is not None:
            raise Failure("--prior needs the whole data before EM (its default values): not with --online")
        check_online(standardize=standardize, labels=labels, plot=plot, animate=animate, stream=stream)
    path, own = checkpoint_file(output, checkpoint)  # a checkpoint for Ctrl-C
    settings = dataclasses.replace(settings, checkpoint=path)
    if online:
        with saved_on_interrupt(path, own):
            _fit_streamed(data, output, settings, columns, header, progress, weights, (epochs, batch_rows))
        return
    if stream is None:
        stream = table_format(data) != "npy" and data.is_file() and data.stat().st_size > STREAM_BYTES
    if stream or scheduler is not None:  # --scheduler reads the file on the cluster
        _check_streamable(data, standardize=standardize, labels=labels, plot=plot, animate=animate)
        if left_out:
            raise Failure(
                "--exclude needs the data in memory; with --stream name the features with --columns"
            )
        with saved_on_interrupt(path, own), on_scheduler(scheduler):
            console, model = _fit_streamed(
                data, output, settings, columns, header, progress, weights, scheduler=scheduler
            )
        _draw_weights(console, model, plot_weights)
        return
    table = _read_data(data, columns, header, weights, labels, left_out)
    scaling = _standardisation(data, table, family) if standardize else Scaling(None, None)
    Z = scaling.to_model(table.X)
    model = settings.build()
    y = _known_labels(table, labels)
    w = table.extra.get(weights) if weights else None
    with model_step(data, table, weights=weights, labels=labels), saved_on_interrupt(path, own):
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
    if plot is not None:
        _draw_clusters(console, model, table, scaling, plot)
    if animate is not None:
        _animate(console, model, table, Z, scaling, animate)
    _draw_weights(console, model, plot_weights)


# -- the steps, in the order fit takes them -----------------------------------------------------------------


def _check_options(
    weights: str | None, labels: str | None, plot_weights: Path | None, bayesian: bool
) -> None:
    """Refuse options that contradict each other, before anything is read.

    Raises
    ------
    Failure
        When --weights and --labels name one column, or --plot-weights comes without --bayesian.
    """
    if weights is not None and weights == labels:
        raise Failure("--weights and --labels name the same column")
    if plot_weights is not None and not bayesian:
        raise Failure("--plot-weights draws the posterior weights of a --bayesian fit; add --bayesian")


def _check_pictures(family: Any, plot: Path | None, animate: Path | None) -> None:
    """Refuse --plot and --animate for a family they cannot draw, before anything is fitted.

    Raises
    ------
    Failure
        When --plot or --animate comes with a --family other than gaussian.
    """
    if (plot is not None or animate is not None) and family is not Family.gaussian:
        flag = "--plot" if plot is not None else "--animate"
        raise Failure(
            f"{flag} draws Gaussian mixtures only, not --family {family.value}; "
            f"`emix trace FILE --family {family.value} --plot PNG` draws that fit's staircase "
            "(and --blend, --images)"
        )


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
    online: tuple[int, int] | None = None,
    scheduler: str | None = None,
) -> tuple[Console, Any]:
    """``emix fit --stream``: EM over a file source, re-reading the file on every pass.

    Reads, fits, writes and reports as the in-memory path does; the other
    parameters are the options of :func:`fit` of the same names. ``online``
    is ``(epochs, batch_rows)`` for ``--online``; ``scheduler`` the address of
    ``--scheduler``. Returns the console reported to and the fitted model.
    """
    from ..sources import file_source

    if scheduler is not None:
        source = dask_source(data, parse_columns(columns), weights)
    else:
        rows = {"rows": online[1]} if online else {}
        source = file_source(data, parse_columns(columns), weights=weights, header=header, **rows)
    model = settings.build()
    if online:
        fit_epochs(model, source, online[0], err().is_terminal if progress is None else progress)
    else:
        _run_em(model, settings, progress, source)
    n = source.n_samples
    ll, total = streamed_log_likelihood(model, source)  # weighted with --weights, as in memory
    bic, aic = bic_aic(ll, model._n_parameters(), total)
    scaling = Scaling(None, None)
    write_model(model, output, source.columns, scaling, n, str(data), ll, bic, aic)
    title = f"{type(model).__name__}, K={settings.n_components}, fitted to {data.name} (streamed)"
    stats = fit_stats(model, n, ll, bic, aic, scaling)
    if weights:
        stats["rows"] = f"{n} (total weight {total:g})"
        stats["per row"] = f"{ll / total:.6f} (per unit of weight)"
    if online:  # online EM has batches and epochs, and no stopping rule
        title = title.replace("(streamed)", f"(online EM, {online[0]} epochs)")
        stats.update(iterations=f"{model.n_iter_} batches", converged="online EM: no stopping rule")
    return _report(model, source.columns, scaling, stats, title, output), model


def _read_data(
    data: Path, columns: str | None, header: bool, weights: str | None, labels: str | None, exclude: list[str]
) -> Any:
    """Read the features, and the --weights and --labels columns beside them, into memory;
    warn about a row-id column or a numeric header row (see :func:`.checks.warn_about_table`).

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
    from ..sources.tables import read_table, table_format

    table = read_table(
        data,
        parse_columns(columns),
        header=header,
        allow_missing=True,
        extra=[weights] if weights else [],
        extra_with_missing=[labels] if labels else [],
        exclude=exclude,
    )
    fmt_has_header = table_format(data) in ("csv", "tsv")
    warn_about_table(data, table, header=header and fmt_has_header, chosen=columns is not None)
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
    with fit_progress(show, settings.max_iter, settings.n_init) as report:
        model.fit(X, *args, progress=report, **kwargs)


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


def _draw_weights(console: Console, model: Any, path: Path | None) -> None:
    """``--plot-weights``: the posterior weights of a --bayesian fit (nothing without the option)."""
    if path is not None:
        from .bayesian import draw_posterior_weights

        draw_posterior_weights(console, model, path)


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
