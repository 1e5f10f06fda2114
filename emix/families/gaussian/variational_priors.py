"""The priors of a variational Gaussian mixture: the user's options, their resolution, and checks.

A prior option left as ``None`` takes scikit-learn's default: ``alpha_0 = 1 /
K``, ``beta_0 = 1``, ``m_0`` the data's mean, ``nu_0 = D`` and ``Psi_0`` the
data's covariance (``ddof=1``; its diagonal for ``diag``, the mean of the
diagonal for ``spherical``). The data's mean and covariance are read off the
statistics of the first M-step (:func:`resolve_priors`): whatever the
responsibilities, ``sum_k N_k xbar_k`` is the sum of the rows and the
within-component scatter plus the between-component scatter is the data's
scatter, so a source read in chunks needs no pass of its own.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from ...exceptions import InvalidParameterError
from .._checks import get_array
from .covariance import checked_covariances


@dataclasses.dataclass(frozen=True)
class Priors:
    """A resolved prior: ``alpha_0``, ``beta_0``, ``m_0`` (D,), ``nu_0`` and ``Psi_0`` (type's shape)."""

    weight_concentration: float
    mean_precision: float
    mean: np.ndarray
    degrees_of_freedom: float
    covariance: np.ndarray

    def as_fields(self) -> dict[str, np.ndarray]:
        """The prior fields of :class:`~.variational.VariationalParams`."""
        return {
            "weight_concentration_prior": np.float64(self.weight_concentration),
            "mean_precision_prior": np.float64(self.mean_precision),
            "mean_prior": self.mean,
            "degrees_of_freedom_prior": np.float64(self.degrees_of_freedom),
            "covariance_prior": self.covariance,
        }


def _positive(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"{name} must be a positive number or None, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class PriorOptions:
    """The user's prior options (``None``: scikit-learn's default), checked as far as D allows."""

    weight_concentration: float | None
    mean_precision: float | None
    mean: np.ndarray | None
    degrees_of_freedom: float | None
    covariance: Any

    def concentration(self, n_components: int) -> float:
        """``alpha_0``: the option, or ``1 / K``."""
        return self.weight_concentration if self.weight_concentration is not None else 1.0 / n_components

    def check_dimension(self, d: int, update: Any) -> None:
        """Raise :class:`InvalidParameterError` when a given prior does not fit D features."""
        if self.mean is not None and self.mean.shape != (d,):
            raise InvalidParameterError(f"mean_prior must have shape ({d},), got {self.mean.shape}")
        if self.degrees_of_freedom is not None and not self.degrees_of_freedom > d - 1.0:
            raise InvalidParameterError(
                f"degrees_of_freedom_prior must be greater than {d - 1} (n_features - 1), "
                f"got {self.degrees_of_freedom:.3f}"
            )
        if self.covariance is not None:
            update.check_prior(self.covariance, d)

    def spec(self) -> dict:
        """The options as JSON values."""

        def plain(v):
            return None if v is None else np.asarray(v, dtype=np.float64).tolist()

        return {
            "weight_concentration_prior": self.weight_concentration,
            "mean_precision_prior": self.mean_precision,
            "mean_prior": plain(self.mean),
            "degrees_of_freedom_prior": self.degrees_of_freedom,
            "covariance_prior": plain(self.covariance),
        }


def check_prior_options(
    weight_concentration, mean_precision, mean, degrees_of_freedom, covariance
) -> PriorOptions:
    """The constructor's prior options, checked (positive numbers, finite numeric arrays)."""
    if mean is not None:
        arr = np.asarray(mean)
        if arr.dtype.kind not in "biuf" or arr.ndim != 1 or not np.isfinite(arr).all():
            raise InvalidParameterError(
                f"mean_prior must be a finite 1-D numeric array or None, got {mean!r}"
            )
        mean = arr.astype(np.float64)
    if covariance is not None:
        arr = np.asarray(covariance)
        if arr.dtype.kind not in "biuf" or not np.isfinite(arr).all():
            raise InvalidParameterError("covariance_prior must be a finite number or numeric array, or None")
        covariance = arr.astype(np.float64)
    return PriorOptions(
        _positive(weight_concentration, "weight_concentration_prior"),
        _positive(mean_precision, "mean_precision_prior"),
        mean,
        _positive(degrees_of_freedom, "degrees_of_freedom_prior"),
        covariance,
    )


def resolve_priors(
    options: PriorOptions, update: Any, nk: np.ndarray, xbar: np.ndarray, within: np.ndarray, k: int
) -> Priors:
    """The prior of a fit, from the options and the first M-step's statistics.

    Parameters
    ----------
    options : PriorOptions
    update : ConjugateUpdate
    nk : ndarray of shape (K,)
    xbar : ndarray of shape (K, D)
        Component means of the rows (any value where ``nk == 0``).
    within : ndarray
        ``N_k S_k`` in the statistics' shape.
    k : int
    """
    d = xbar.shape[1]
    options.check_dimension(d, update)
    n = float(nk.sum())
    mean = (nk @ xbar) / n
    if options.covariance is not None:
        cov = update.check_prior(options.covariance, d)
    else:
        cov = np.asarray(update.default_prior(update.total_scatter(within, nk, xbar - mean), n))
    return Priors(
        weight_concentration=options.concentration(k),
        mean_precision=options.mean_precision if options.mean_precision is not None else 1.0,
        mean=options.mean if options.mean is not None else mean,
        degrees_of_freedom=options.degrees_of_freedom if options.degrees_of_freedom is not None else float(d),
        covariance=cov,
    )


def _positive_array(arrays: dict, name: str, shape: tuple[int, ...], floor: float = 0.0) -> np.ndarray:
    arr = get_array(arrays, name, shape, owner="variational_gaussian")
    if (arr <= floor).any():
        raise InvalidParameterError(f"variational_gaussian: {name} must be greater than {floor}")
    return arr


def params_from_arrays(family: Any, arrays: dict, k: int, d: int):
    """``family.params_type`` (:class:`~.variational.VariationalParams`) from named arrays (fitted
    attributes, model files), checked.

    ``precisions_cholesky`` may be left out (it is computed from ``covariances``).
    """
    update, model = family.update, family.model
    dof_shape = () if update.shared else (k,)
    arrays = dict(arrays)
    if isinstance(arrays.get("weight_concentration"), tuple):
        arrays["weight_concentration"] = np.stack(arrays["weight_concentration"])
    cov = get_array(arrays, "covariances", model.shape(k, d), owner="variational_gaussian")
    if arrays.get("precisions_cholesky") is None:
        cov, pc = checked_covariances(model, cov, k, d)
    else:
        pc = get_array(arrays, "precisions_cholesky", model.shape(k, d), owner="variational_gaussian")
    params = family.params_type(
        weight_concentration=_positive_array(arrays, "weight_concentration", family.weight_prior.shape(k)),
        mean_precision=_positive_array(arrays, "mean_precision", (k,)),
        means=get_array(arrays, "means", (k, d), owner="variational_gaussian"),
        degrees_of_freedom=_positive_array(arrays, "degrees_of_freedom", dof_shape, d - 1.0),
        covariances=cov,
        precisions_cholesky=pc,
        weight_concentration_prior=_positive_array(arrays, "weight_concentration_prior", ()),
        mean_precision_prior=_positive_array(arrays, "mean_precision_prior", ()),
        mean_prior=get_array(arrays, "mean_prior", (d,), owner="variational_gaussian"),
        degrees_of_freedom_prior=_positive_array(arrays, "degrees_of_freedom_prior", (), d - 1.0),
        covariance_prior=update.check_prior(arrays.get("covariance_prior"), d),
    )
    return params
