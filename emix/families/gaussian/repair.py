"""Repairs of degenerate Gaussian M-steps, and the per-thread count of them.

A covariance that is not positive definite gets the least diagonal jitter
that makes it so; a zero variance is floored; a component that received no
responsibility keeps its previous parameters. Each repair warns
:class:`~emix.exceptions.DegenerateComponentWarning` and is counted on its
thread, so that the EM driver can tell a repaired M-step (after which a small
drop of the likelihood is expected) from a bug without catching warnings.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..._linalg import cholesky_lower
from ...exceptions import DegenerateComponentWarning, NumericalError
from .. import repairs

if TYPE_CHECKING:
    from .covariance import CovarianceModel

_REPAIRS = threading.local()


def note_repair(components: tuple[int, ...] | list[int] = (), what: str = "") -> None:
    """Count a repaired M-step on this thread (see :func:`thread_repair_count`), and record what
    was done to which ``components`` (see :mod:`emix.families.repairs`)."""
    _REPAIRS.n = getattr(_REPAIRS, "n", 0) + 1
    if what:
        repairs.note(components, what)


def thread_repair_count() -> int:
    """Repaired M-steps so far on this thread."""
    return getattr(_REPAIRS, "n", 0)


def repair_cholesky(
    cov: np.ndarray, label: str, components: tuple[int, ...] = ()
) -> tuple[np.ndarray, float]:
    """Lower Cholesky of ``cov`` and the jitter added to its diagonal to make it exist.

    ``components`` are the components ``cov`` belongs to (empty for a shared one), for the record.

    Warns :class:`DegenerateComponentWarning` when jitter was needed and raises
    :class:`NumericalError` when no reasonable jitter helps.
    """
    chol = cholesky_lower(cov)
    if chol is not None:
        return chol, 0.0
    d = cov.shape[0]
    diag = np.diag(cov)
    finite = np.isfinite(cov).all()
    if not finite:
        raise NumericalError(
            f"{label}: covariance has non-finite entries; the data may contain extreme values. "
            "Standardise the features or increase reg_covar"
        )
    scale = float(np.mean(np.abs(diag))) if np.any(diag > 0) else 1.0
    eps = float(np.finfo(cov.dtype).eps)
    eye = np.eye(d, dtype=cov.dtype)
    for power in range(0, 14):
        jitter = scale * eps * 10.0 * (10.0**power)
        chol = cholesky_lower(cov + jitter * eye)
        if chol is not None:
            note_repair(
                components, f"added {jitter:.3g} to the covariance's diagonal (not positive definite)"
            )
            warnings.warn(
                f"{label}: covariance is not positive definite (singular: a constant "
                f"feature, duplicated points or a collapsed component); added {jitter:.3g} "
                "to its diagonal. Set reg_covar > 0, use fewer components or standardise "
                "the features to avoid this",
                DegenerateComponentWarning,
                stacklevel=4,
            )
            return chol, jitter
    raise NumericalError(
        f"{label}: covariance is not positive definite even with jitter {jitter:.3g}. "
        "Increase reg_covar, use fewer components, or standardise the features"
    )


def repair_variances(var: np.ndarray, label: str, components: tuple[int, ...] = ()) -> np.ndarray:
    """Variances must be positive and finite; floor zeros with jitter and a warning."""
    if not np.isfinite(var).all():
        raise NumericalError(
            f"{label}: variance is not finite. Standardise the features or increase reg_covar"
        )
    bad = var <= 0
    if not bad.any():
        return var
    pos = var[var > 0]
    scale = float(pos.mean()) if pos.size else 1.0
    jitter = scale * float(np.finfo(var.dtype).eps) * 10.0
    note_repair(components, f"{int(bad.sum())} zero variance(s) set to {jitter:.3g}")
    warnings.warn(
        f"{label}: {int(bad.sum())} variance(s) are zero (a constant feature or a collapsed "
        f"component); set to {jitter:.3g}. Set reg_covar > 0 to avoid this",
        DegenerateComponentWarning,
        stacklevel=4,
    )
    var = var.copy()
    var[bad] = jitter
    return var


def keep_empty_components(
    model: CovarianceModel,
    empty: np.ndarray,
    means: np.ndarray,
    cov: np.ndarray,
    previous,
    centre: np.ndarray,
) -> None:
    """Give emptied components their previous mean and covariance, in place.

    Parameters
    ----------
    model : CovarianceModel
    empty : ndarray of bool of shape (K,)
    means : ndarray of shape (K, D)
        New means, overwritten for the empty components.
    cov : ndarray
        New covariances (model shape); per-component ones are overwritten.
    previous : parameters with ``means`` and ``covariances``, or None
        Without previous parameters an empty component is placed at ``centre``.
    centre : ndarray of shape (K, D)
        The anchor of the statistics.
    """
    if previous is not None:
        means[empty] = previous.means[empty]
        if model.per_component:
            cov[empty] = previous.covariances[empty]
    else:
        means[empty] = centre[empty]
