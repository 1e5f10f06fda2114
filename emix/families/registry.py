"""Families by name, and their JSON-able descriptions (``spec``).

:func:`make_family` is the one place that turns a family name into a family;
:func:`family_from_spec` rebuilds a family from ``family.spec()`` (a dict) or
from its JSON text, which is how model files and ``emix.Mixture(family=...)``
refer to families.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InvalidParameterError
from ._common import get_array
from .bernoulli import BernoulliFamily
from .categorical import CategoricalFamily
from .exponential import ExponentialFamily
from .gaussian import GaussianFamily, GaussianParams
from .gaussian.missing import MissingGaussianFamily
from .poisson import PoissonFamily
from .product import ProductFamily
from .student import StudentFamily, checked_covariances


class GaussianComponents(GaussianFamily):
    """The Gaussian family with the estimator-support methods of the other families.

    Parameters
    ----------
    covariance_type : str, default='full'
    reg_covar : float, default=1e-6
    """

    #: NaN means "missing at random": see :meth:`for_missing`
    handles_missing = True

    @property
    def exact_m_step(self) -> bool:
        return self.reg_covar == 0

    @property
    def needs_spread(self) -> bool:
        """With ``reg_covar=0`` the likelihood has no maximum where a component sits on
        identical rows (its covariance shrinks to zero), so the training data must have more
        distinct rows than components."""
        return self.reg_covar == 0

    def for_missing(self, X: np.ndarray) -> MissingGaussianFamily:
        """The exact missing-data variant (marginal densities, conditional expectations).

        Parameters
        ----------
        X : ndarray of shape (n, D)
            Data with NaN (not used beyond the choice of variant).
        """
        return MissingGaussianFamily(self)

    def validate(self, X: np.ndarray, columns: Sequence[int] | None = None) -> None:
        """Any finite real values are allowed; NaN is a missing value."""

    def configure(self, X: np.ndarray) -> GaussianComponents:
        return self

    def array_names(self) -> tuple[str, ...]:
        return ("means", "covariances", "precisions_cholesky")

    def to_arrays(self, params: GaussianParams) -> dict[str, np.ndarray]:
        return {
            "means": params.means,
            "covariances": params.covariances,
            "precisions_cholesky": params.precisions_cholesky,
        }

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> GaussianParams:
        """Parameters from arrays (user starts, model files), checked.

        ``means`` and ``covariances`` are required; ``precisions_cholesky``, when
        given, must agree with ``covariances`` and is kept as given, else it is
        computed. float32 arrays stay float32.
        """
        k, d = n_components, n_features
        dtype = np.float32 if np.asarray(arrays.get("means")).dtype == np.float32 else np.float64
        means = get_array(arrays, "means", (k, d), dtype=dtype, owner="gaussian")
        shape = self.model.shape(k, d)
        cov = get_array(arrays, "covariances", shape, dtype=dtype, owner="gaussian")
        if arrays.get("precisions_cholesky") is None:
            cov, pc = checked_covariances(self.model, cov.astype(np.float64), k, d)
            return GaussianParams(
                means=means, covariances=cov.astype(dtype), precisions_cholesky=pc.astype(dtype)
            )
        pc = get_array(arrays, "precisions_cholesky", shape, dtype=dtype, owner="gaussian")
        prec = self.model.precisions(pc.astype(np.float64))
        eye = np.eye(d)
        for j in range(k):
            c = self.model.component_covariance(cov.astype(np.float64), j, d)
            p = self.model.component_covariance(prec, j, d)
            if not np.allclose(c @ p, eye, rtol=1e-5, atol=1e-5):
                raise InvalidParameterError(
                    f"component {j}: covariances and precisions_cholesky do not agree"
                )
        return GaussianParams(means=means, covariances=cov, precisions_cholesky=pc)

    def derived_arrays(self, params: GaussianParams) -> dict[str, np.ndarray]:
        """Fitted attributes computed from the parameters, not stored: ``precisions``."""
        return {"precisions": self.model.precisions(params.precisions_cholesky)}

    def spec(self) -> dict:
        return {"family": "gaussian", "covariance_type": self.model.name, "reg_covar": self.reg_covar}


#: Families by name. A new family registers here.
FAMILIES: dict[str, type] = {
    "gaussian": GaussianComponents,
    "bernoulli": BernoulliFamily,
    "categorical": CategoricalFamily,
    "poisson": PoissonFamily,
    "exponential": ExponentialFamily,
    "student": StudentFamily,
}


def make_family(name: str, **options: Any):
    """The family registered under ``name``, built with ``options``.

    Parameters
    ----------
    name : {'gaussian', 'bernoulli', 'categorical', 'poisson', 'exponential', 'student'}
    **options
        Constructor arguments of the family (e.g. ``alpha``, ``covariance_type``).
    """
    cls = FAMILIES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidParameterError(f"unknown family {name!r}; known: {sorted(FAMILIES) + ['product']}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise InvalidParameterError(f"invalid options for the {name} family: {exc}") from None


def family_from_spec(spec: Any):
    """Build a family from a name, a spec dict, its JSON text, or return a family as is.

    Parameters
    ----------
    spec : str, dict or family object
        ``"poisson"``; ``{"family": "bernoulli", "alpha": 0}``; the JSON text of
        such a dict; or ``{"family": "product", "parts": [{"family": ...,
        "columns": [...], ...}, ...]}``.
    """
    if hasattr(spec, "log_prob") and hasattr(spec, "accumulate"):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if not text.startswith("{"):
            return make_family(text)
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(f"family spec is not valid JSON: {exc}") from None
    if not isinstance(spec, dict) or "family" not in spec:
        raise InvalidParameterError(
            f"family must be a family name, a family object or a spec dict with a 'family' key, got {spec!r}"
        )
    options = dict(spec)
    name = options.pop("family")
    if name == "product":
        parts = options.pop("parts", None)
        if options or not isinstance(parts, list):
            raise InvalidParameterError("a product spec is {'family': 'product', 'parts': [...]}")
        built = []
        for part in parts:
            if not isinstance(part, dict) or "columns" not in part:
                raise InvalidParameterError(f"each product part needs 'columns', got {part!r}")
            sub = dict(part)
            cols = sub.pop("columns")
            built.append((family_from_spec(sub), cols))
        return ProductFamily(built)
    if "dof_bounds" in options and options["dof_bounds"] is not None:
        options["dof_bounds"] = tuple(options["dof_bounds"])
    return make_family(name, **options)


def spec_string(family: Any) -> str:
    """Compact JSON text of ``family.spec()``."""
    return json.dumps(family.spec(), sort_keys=True, separators=(",", ":"))
