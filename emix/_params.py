"""scikit-learn's estimator conventions without importing scikit-learn."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .exceptions import InvalidParameterError


@functools.lru_cache(maxsize=256)
def _init_names(init: Any) -> tuple[str, ...]:
    """The sorted argument names of an ``__init__`` (cached: reading a signature costs 0.1 ms)."""
    sig = inspect.signature(init)
    return tuple(
        sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)
    )


class ParamsMixin:
    """``get_params`` / ``set_params`` / ``__repr__`` read from ``__init__``'s signature.

    As in scikit-learn, ``__init__`` only stores its arguments under their own
    names, so :func:`sklearn.base.clone` works on emix estimators.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        return list(_init_names(cls.__init__))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters of this estimator, by name.

        Parameters
        ----------
        deep : bool, default=True
            Accepted for scikit-learn's API; emix estimators hold no
            sub-estimators, so it changes nothing.

        Returns
        -------
        params : dict
            Every argument of ``__init__`` and its current value.
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        """Set constructor parameters (as scikit-learn's ``set_params``).

        Parameters
        ----------
        **params
            New values by parameter name.

        Returns
        -------
        self : object
            The estimator.

        Raises
        ------
        InvalidParameterError
            A name that is not a constructor parameter.
        """
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise InvalidParameterError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid: {sorted(valid)}"
                )
            setattr(self, name, value)
        return self

    # scikit-learn's tag protocol (>= 1.6), so pipelines and model selection accept
    # emix estimators; sklearn is imported only when sklearn itself asks.
    _estimator_type = "DensityEstimator"

    def __sklearn_tags__(self):
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(
            estimator_type="density_estimator",
            target_tags=TargetTags(required=False),
            input_tags=InputTags(**self._input_tags()),
        )

    def _input_tags(self) -> dict[str, bool]:
        """Fields of scikit-learn's ``InputTags`` that differ from its defaults (default: none)."""
        return {}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "weights_")

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        parts = []
        for name in self._param_names():
            default = sig.parameters[name].default
            value = getattr(self, name)
            try:
                same = value is default or (type(value) is type(default) and value == default)
                same = bool(same)
            except (ValueError, TypeError):
                same = False
            if not same:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
