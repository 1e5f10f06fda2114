"""What a trace records: the state of EM after each step, and the whole run.

:class:`TraceStep` holds one state (the start, an E-step or an M-step) for
any family: the responsibilities ``q``, the mixing weights, the family's own
parameter arrays, its other latent variables where it has some, and the
numbers of :mod:`emix.teach.bound`. :class:`EMTrace` is the run; both turn
into plain JSON with ``to_dict``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..engine import MixtureParams
from ..exceptions import InvalidParameterError

__all__ = ["TraceStep", "EMTrace", "display_arrays", "RESERVED_KEYS"]

#: keys of a step's JSON that a family's array names may not take
RESERVED_KEYS = frozenset(
    {
        "iteration",
        "step",
        "log_likelihood",
        "lower_bound",
        "kl",
        "expected_complete",
        "entropy",
        "weights",
        "responsibilities",
        "latent",
    }
)


def display_arrays(family: Any, components: Any) -> dict[str, np.ndarray]:
    """The family's parameter arrays as a trace shows them.

    ``family.to_arrays(components)`` as float64 (integer arrays, such as a
    categorical family's ``n_levels``, as int64), less the Cholesky factors
    of the precisions (they follow from the covariances); where the family's
    spec names a covariance model, ``covariances`` are full matrices
    (K, D, D) whatever the model (a tied covariance is repeated).

    Parameters
    ----------
    family : Family
    components : the family's parameters

    Returns
    -------
    dict of str to ndarray
        Shapes as the family's arrays: (K, D) for most, (K, D, L_max) for
        categorical probabilities, (K,) for the Student-t ``dof``.
    """
    arrays = {
        name: np.array(value, dtype=np.int64 if np.asarray(value).dtype.kind in "iu" else np.float64)
        for name, value in family.to_arrays(components).items()
        if not name.endswith("precisions_cholesky")
    }
    covariance_type = _spec(family).get("covariance_type")
    if covariance_type is not None and "covariances" in arrays and "means" in arrays:
        from ..families.gaussian import get_covariance_model

        model = get_covariance_model(covariance_type)
        k, d = arrays["means"].shape
        arrays["covariances"] = np.stack(
            [model.component_covariance(arrays["covariances"], j, d) for j in range(k)]
        ).astype(np.float64)
    clash = RESERVED_KEYS.intersection(arrays)
    if clash:
        raise InvalidParameterError(
            f"the family's array names {sorted(clash)} clash with the trace's own keys"
        )
    return arrays


def _spec(family: Any) -> dict:
    spec = getattr(family, "spec", None)
    try:
        out = spec() if spec is not None else {}
    except Exception:  # noqa: BLE001 - a description is optional; the trace does without
        return {}
    return out if isinstance(out, dict) else {}


def _json(value: Any) -> Any:
    """Plain JSON values: arrays and numpy scalars to lists and floats, tuples to lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class TraceStep:
    """The state of EM after one E-step or one M-step (or at the start).

    Attributes
    ----------
    iteration : int
        0 for the start, 1 for the first E-step and M-step, 2 for the next pair, ...
    step : {'start', 'E', 'M'}
    responsibilities : ndarray of shape (n_samples, K)
        ``q_nk``: after an E-step (and at the start) the posterior under the
        current ``θ``; after an M-step the same ``q`` the M-step used.
    weights : ndarray of shape (K,)
        ``π_k``.
    arrays : dict of str to ndarray
        The family's parameters (``display_arrays``): ``means`` (K, D) and
        ``covariances`` (K, D, D) for a Gaussian, ``probabilities`` (K, D)
        for a Bernoulli, ``rates`` (K, D) for Poisson and exponential, ...
    log_likelihood : float
        ``ln p(X | θ)``.
    lower_bound : float
        ``L(q, θ)``.
    kl : float
        ``KL(q ‖ p(z | X, θ))``: 0 after an E-step.
    expected_complete : float
        ``Q(θ, θ_old) = Σ q_nk ln p(x_n, k | θ)``; the M-step raises it.
    entropy : float
        ``H(q)``; ``lower_bound = expected_complete + entropy``.
    latent : dict of str to ndarray of shape (n_samples, K)
        Expectations of the family's other latent variables given the
        component, under the parameters the next M-step uses (Student-t:
        ``{"u": u_nk}``, the scale weights); empty for most families.
    params : MixtureParams
        The parameters themselves (not in the JSON form).

    Examples
    --------
    >>> from emix.teach import trace_lecture_example
    >>> step = trace_lecture_example().steps[1]
    >>> step.label, step.step, step.iteration
    ('M1', 'M', 1)
    >>> step.weights.round(3), sorted(step.arrays)
    (array([0.5, 0.5]), ['covariances', 'means'])
    >>> round(step.kl, 4), abs(step.lower_bound + step.kl - step.log_likelihood) < 1e-9
    (0.0163, True)
    >>> [[round(v, 3) for v in row] for row in step.to_dict()["means"]]  # plain JSON lists
    [[8.5, 1.833], [1.833, 7.5]]
    """

    iteration: int
    step: str
    responsibilities: np.ndarray
    weights: np.ndarray
    arrays: dict
    log_likelihood: float
    lower_bound: float
    kl: float
    expected_complete: float
    entropy: float
    latent: dict = dataclasses.field(default_factory=dict)
    params: MixtureParams | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def means(self) -> np.ndarray:
        """``arrays["means"]``, shape (K, D), for the families that have means."""
        return self._array("means")

    @property
    def covariances(self) -> np.ndarray:
        """``arrays["covariances"]``, full matrices of shape (K, D, D)."""
        return self._array("covariances")

    def _array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            raise AttributeError(f"this family has no {name}; its arrays are {sorted(self.arrays)}")
        return self.arrays[name]

    @property
    def label(self) -> str:
        """``start``, ``E1``, ``M1``, ``E2`` ..."""
        return "start" if self.step == "start" else f"{self.step}{self.iteration}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: the numbers, the weights, the family's arrays under their names,
        the responsibilities and ``latent``."""
        return {
            "iteration": self.iteration,
            "step": self.step,
            "log_likelihood": self.log_likelihood,
            "lower_bound": self.lower_bound,
            "kl": self.kl,
            "expected_complete": self.expected_complete,
            "entropy": self.entropy,
            "weights": self.weights.tolist(),
            **{name: value.tolist() for name, value in self.arrays.items()},
            "responsibilities": self.responsibilities.tolist(),
            "latent": {name: value.tolist() for name, value in self.latent.items()},
        }


@dataclasses.dataclass(frozen=True)
class EMTrace:
    """A run of EM recorded step by step.

    Attributes
    ----------
    X : ndarray of shape (n_samples, D)
    family : Family
        The family EM ran with (configured on ``X``).
    covariance_type : str or None
        The covariance model of a Gaussian or Student-t family, else None.
    reg_covar : float or None
        The covariance jitter of a Gaussian or Student-t family, else None.
    exact_m_step : bool
        Whether each M-step maximises ``L(q, θ)`` exactly (no pseudo-count,
        no jitter): then the bound never falls.
    initial : TraceStep
        The starting parameters (``step='start'``, ``iteration=0``); its
        ``responsibilities`` are the posterior under them, ``kl`` is 0.
    steps : tuple of TraceStep
        E, M, E, M, ... in order.

    Examples
    --------
    >>> import json
    >>> from emix.teach import trace_lecture_example
    >>> trace = trace_lecture_example(n_iter=2)
    >>> trace.family_name, trace.covariance_type, trace.reg_covar, trace.exact_m_step
    ('gaussian', 'full', 0.0, True)
    >>> [s.label for s in trace.states]
    ['start', 'E1', 'M1', 'E2', 'M2']
    >>> sorted(json.loads(json.dumps(trace.to_dict())))
    ['X', 'covariance_type', 'exact_m_step', 'family', 'initial', 'reg_covar', 'steps']
    """

    X: np.ndarray
    family: Any
    covariance_type: str | None
    reg_covar: float | None
    exact_m_step: bool
    initial: TraceStep
    steps: tuple[TraceStep, ...]

    @property
    def family_name(self) -> str:
        """The family's name (``gaussian``, ``bernoulli``, ``product`` ...)."""
        return str(getattr(self.family, "name", type(self.family).__name__))

    @property
    def states(self) -> tuple[TraceStep, ...]:
        """The start, then every step."""
        return (self.initial, *self.steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form of the whole trace."""
        return {
            "X": np.where(np.isnan(self.X), None, self.X).tolist(),  # a missing value is null
            "family": _json(_spec(self.family) or {"family": self.family_name}),
            "covariance_type": self.covariance_type,
            "reg_covar": self.reg_covar,
            "exact_m_step": self.exact_m_step,
            "initial": self.initial.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }
