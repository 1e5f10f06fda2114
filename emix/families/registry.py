"""Families by name, and their JSON-able descriptions (``spec``).

:func:`make_family` is the one place that turns a family name into a family;
:func:`family_from_spec` rebuilds a family from ``family.spec()`` (a dict) or
from its JSON text, which is how model files and ``emix.Mixture(family=...)``
refer to families.
"""

from __future__ import annotations

import json
from typing import Any

from ..exceptions import InvalidParameterError
from .bernoulli import BernoulliFamily
from .categorical import CategoricalFamily
from .exponential import ExponentialFamily
from .gaussian import GaussianFamily
from .poisson import PoissonFamily
from .product import ProductFamily
from .student import StudentFamily

#: The Gaussian family under its former name: it was the subclass of
#: :class:`GaussianFamily` with the estimator-support methods, which the family
#: now has itself (public as ``emix.families.GaussianComponents``).
GaussianComponents = GaussianFamily


#: Families by name (the classes), as :func:`make_family` and model files find them. A new
#: family registers here: ``FAMILIES["geometric"] = GeometricFamily``.
FAMILIES: dict[str, type] = {
    "gaussian": GaussianFamily,
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
        A key of :data:`FAMILIES`.
    **options
        Constructor arguments of the family (e.g. ``alpha``, ``covariance_type``).

    Returns
    -------
    family : family object

    Raises
    ------
    InvalidParameterError
        An unknown name, or options the family does not take.

    Examples
    --------
    >>> from emix.families import make_family
    >>> make_family("poisson", alpha=0.5).spec()
    {'family': 'poisson', 'alpha': 0.5}
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

    This is how model files and ``emix.Mixture(family=...)`` name families:
    ``family_from_spec(family.spec())`` rebuilds ``family``.

    Parameters
    ----------
    spec : str, dict or family object
        ``"poisson"``; ``{"family": "bernoulli", "alpha": 0}``; the JSON text of
        such a dict; or ``{"family": "product", "parts": [{"family": ...,
        "columns": [...], ...}, ...]}``.

    Returns
    -------
    family : family object

    Raises
    ------
    InvalidParameterError
        A spec that names no family, or is malformed.

    Examples
    --------
    >>> from emix.families import family_from_spec
    >>> family_from_spec('{"family": "bernoulli", "alpha": 0}').spec()
    {'family': 'bernoulli', 'alpha': 0.0}
    >>> parts = [{"family": "gaussian", "covariance_type": "diag", "columns": [0, 1]},
    ...          {"family": "categorical", "columns": [2]}]
    >>> type(family_from_spec({"family": "product", "parts": parts})).__name__
    'ProductFamily'
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
