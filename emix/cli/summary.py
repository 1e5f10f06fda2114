"""The model summary fit, info and demo print: the Rich component table and the fit statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.table import Table as RichTable

from .files import Scaling


def fmt(x: float, digits: int = 6) -> str:
    """``x`` to ``digits`` significant digits; ``inf`` and ``nan`` as they are."""
    return f"{x:.{digits}g}" if math.isfinite(x) else str(x)


def summary(model: Any, columns: Sequence[str], scaling: Scaling, stats: dict[str, Any], title: str) -> list:
    """Rich renderables: the component table and the fit statistics.

    Parameters
    ----------
    model : estimator
        The fitted model.
    columns : sequence of str
        The feature names.
    scaling : Scaling
        The standardisation the model was fitted under (means are shown in data units).
    stats : dict of str to str
        The statistics to list under the table, e.g. from :func:`fit_stats`.
    title : str
        The title of the component table.

    Returns
    -------
    list
        The component table (heaviest component first), a blank line and the statistics.
    """
    parts = component_arrays(model, columns, scaling)
    comp = RichTable(title=title, title_justify="left", show_edge=False, header_style="bold")
    comp.add_column("k", justify="right")
    comp.add_column("weight", justify="right")
    for head, _ in parts:
        comp.add_column(head, justify="right")
    order = np.argsort(-np.asarray(model.weights_), kind="stable")
    for k in order:
        comp.add_row(str(k), f"{model.weights_[k]:.4f}", *(fmt(values[k]) for _, values in parts))
    info = RichTable(show_header=False, show_edge=False, box=None, pad_edge=False)
    info.add_column(style="bold")
    info.add_column()
    for key, value in stats.items():
        info.add_row(key, value)
    return [comp, "", info]


def component_arrays(model: Any, columns: Sequence[str], scaling: Scaling) -> list[tuple[str, np.ndarray]]:
    """Per-component numbers to show, one (header, values of shape (K,)) per table column.

    Gaussian and Student-t: the means in data units. Other families: each
    parameter array of shape (K, D), e.g. ``probabilities`` or ``rates``.

    Parameters
    ----------
    model : estimator
        The fitted model.
    columns : sequence of str
        The feature names.
    scaling : Scaling
        The standardisation the model was fitted under.

    Returns
    -------
    list of (str, ndarray)
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


def model_kind(model: Any) -> str:
    """``gaussian, covariance tied``, ``student-t, covariance full``, ``bernoulli``..."""
    spec = model._make_family().spec() if hasattr(model._make_family(), "spec") else {}
    name = {"student": "student-t"}.get(spec.get("family", "gaussian"), spec.get("family", "gaussian"))
    cov = getattr(model, "covariance_type", None) or spec.get("covariance_type")
    return f"{name}, covariance {cov}" if cov else name


def fit_stats(
    model: Any, n: int | None, ll: float | None, bic: float | None, aic: float | None, scaling: Scaling
) -> dict[str, str]:
    """The fit statistics as the summary lists them, formatted.

    Parameters
    ----------
    model : estimator
        The fitted model.
    n : int or None
        The number of rows fitted, if known.
    ll, bic, aic : float or None
        Log-likelihood, BIC and AIC, if known; each missing one is left out.
    scaling : Scaling
        The standardisation the model was fitted under.

    Returns
    -------
    dict of str to str
        model, rows, log-likelihood, per row, BIC, AIC, iterations, converged, and the
        diagnostics when the fit found any.
    """
    out = {
        "model": model_kind(model) + ("  (features standardised)" if scaling.active else ""),
    }
    if n is not None:
        out["rows"] = str(n)
    if hasattr(model, "noise_weight_"):  # a noise component (--noise): its weight and volume
        out["noise weight"] = f"{model.noise_weight_:.4f} (volume {float(model.noise_volume_):.6g})"
    if ll is not None:
        out["log-likelihood"] = f"{ll:.6f}"
        if n:
            out["per row"] = f"{ll / n:.6f}"
    if getattr(model, "prior", None) is not None and len(model.history_):  # MAP: the objective too
        out["log L + log prior"] = f"{model.history_[-1]:.6f}  (MAP objective; BIC and AIC use log L)"
    elbo = getattr(model, "elbo_", None)
    if elbo is not None:  # variational Bayes: its bound, not a likelihood's criteria
        out["ELBO"] = f"{elbo:.6f}  (lower bound {model.lower_bound_:.6f}, scikit-learn's)"
        out["components used"] = (
            f"{int((model.weights_ > 0.01).sum())} of {len(model.weights_)} (weight > 1%)"
        )
        bic = aic = None
    if bic is not None:
        out["BIC"] = f"{bic:.3f}"
    if aic is not None:
        out["AIC"] = f"{aic:.3f}"
    out["iterations"] = str(model.n_iter_)
    out["converged"] = (
        "yes" if model.converged_ else f"no (raise --max-iter, or {_loosen(model)} to stop sooner)"
    )
    found = diagnostics_lines(model)
    if found:
        out["diagnostics"] = "\n".join(found)
    return out


def diagnostics_lines(model: Any, most: int = 6) -> list[str]:
    """The findings of ``model.diagnostics_`` (its issues), at most ``most`` lines; none when clean."""
    diag = getattr(model, "diagnostics_", None)
    issues = list(getattr(diag, "issues", ()))
    if len(issues) > most:
        issues = issues[: most - 1] + [f"... and {len(issues) - most + 1} more (see diagnostics_)"]
    return issues


def _loosen(model: Any) -> str:
    """The option that loosens the stopping rule ``model`` used."""
    return "--tol" if getattr(model, "convergence", "aitken") == "sklearn" else "--rtol"


def bic_aic(ll: float, n_parameters: int, n: float) -> tuple[float, float]:
    """BIC and AIC from a total log-likelihood, scikit-learn's sign (smaller is better).

    Parameters
    ----------
    ll : float
        Total log-likelihood.
    n_parameters : int
        Free parameters ``p``.
    n : float
        Sample size (the sum of the row weights when there are weights).

    Returns
    -------
    bic, aic : float
        ``-2 ll + p ln n`` and ``-2 ll + 2 p``.
    """
    return -2 * ll + n_parameters * math.log(n), -2 * ll + 2 * n_parameters


def criteria(
    model: Any, Z: np.ndarray, scaling: Scaling, weights: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Total log-likelihood in data units, BIC and AIC (scikit-learn's sign: smaller is better).

    With row weights the log-likelihood is the weighted sum (what the fit
    maximised) and BIC's sample size is the sum of the weights.

    Parameters
    ----------
    model : estimator
        The fitted model.
    Z : ndarray of shape (n_samples, D)
        The data in the model's units.
    scaling : Scaling
        The standardisation the model was fitted under (its Jacobian is undone).
    weights : ndarray of shape (n_samples,), optional
        Row weights.

    Returns
    -------
    ll, bic, aic : float
    """
    w = np.ones(Z.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    n = float(w.sum())
    ll = float(w @ model.score_samples(Z)) - n * scaling.log_jacobian
    return (ll, *bic_aic(ll, model._n_parameters(), n))
