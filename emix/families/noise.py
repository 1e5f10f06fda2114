"""A noise component for any family: a uniform density ``1 / V`` over a box around the data.

:class:`NoiseFamily` wraps a family of K components and adds one more, with
the constant log-density ``-log V`` (mclust's noise component; ``V`` is
mclust's ``hypvol`` unless given, see :mod:`.noise_volume`). EM runs on
``K + 1`` weights; nothing in the engine knows of the noise:

- ``log_prob`` is the family's ``(n, K)`` matrix with a column ``-log V``;
- ``accumulate`` gives the family the first K responsibility columns and
  keeps every column's sum (:class:`NoiseStats`);
- the weights' M-step is maximum likelihood on the K + 1 sums (or, when the
  wrapped family fixes its weights, mclust's ``equalPro``: the noise weight
  estimated, the K others equal);
- the noise weight is a free parameter and so is the volume, as mclust counts
  them (``nMclustParams(..., noise = TRUE)`` adds 2);
- the start (:meth:`NoiseFamily.initial_params`) is mclust's: the family's
  start on the rows not guessed as noise, the guessed rows given to the noise.

Fitted model files hold the box (``noise_lower``, ``noise_upper``,
``noise_rotation``) and ``noise_volume``; the estimators show the noise
weight apart from ``weights_`` (see :meth:`NoiseFamily.split_weights`).
Values missing at random are not supported with a noise component (the
volume of the observed coordinates would change from row to row).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..exceptions import InvalidParameterError
from .base import Stats
from .noise_volume import NoiseBox, box_of_array, box_of_source, check_volume

#: The noise weight a fit starts from when no row is guessed as noise.
NOISE_START = 0.1

#: Attributes of the wrapped family that would be wrong for K + 1 columns: not handed on.
_NOT_FORWARDED = frozenset(
    {
        "prepare_pass",
        "e_step_accumulate",
        "whole_em",
        "latent_expectations",
        "init_family",
        "init_encode",
        "init_decode_centres",
        "init_fill_columns",
        "impute",
        "repaired_components",
        "params_type",
        "weights_step",
        "n_weight_parameters",
        "log_prior",
        "log_likelihood_from_objective",
    }
)
_BOX_ARRAYS = ("noise_volume", "noise_lower", "noise_upper", "noise_rotation")


@dataclasses.dataclass(frozen=True)
class NoiseParams:
    """The wrapped family's parameters and the noise's box.

    Attributes
    ----------
    base : the wrapped family's parameters (K components)
    box : NoiseBox
        Its volume is ``V``; the noise log-density is ``-box.log_volume``.
    """

    base: Any
    box: NoiseBox


@dataclasses.dataclass(frozen=True)
class NoiseStats(Stats):
    """``nk`` of shape (K + 1,), the noise last; ``base``: the wrapped family's statistics."""

    base: Stats


class NoiseFamily:
    """A family with one more component: uniform noise over a box around the data.

    Parameters
    ----------
    family : family
        Any family of K components (see :mod:`emix.families.base`).
    volume : True or float, default=True
        ``True``: mclust's ``hypvol`` of the training rows (the smaller of
        the bounding box and the box of the principal-component scores); a
        number: that volume ``V`` (the box is the bounding box scaled about its
        centre to that volume, for sampling).
    init : bool array of shape (n_samples,), float, or None
        The start: a guess of the noise rows (mclust's ``initialization$noise``:
        the family starts from the other rows, the guessed rows start as
        noise); a number in (0, 1): the noise weight to start from, the
        family starting from every row; ``None``: ``NOISE_START``.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> from emix.families import GaussianComponents
    >>> from emix.families import NoiseFamily
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (200, 2)), rng.uniform(-8, 8, (40, 2))])
    >>> gm = emix.Mixture(1, family=NoiseFamily(GaussianComponents("full")), random_state=0).fit(X)
    >>> round(float(gm.noise_weight_), 2), gm.weights_.shape
    (0.16, (1,))
    """

    name = "noise"
    #: NaN is not a missing value here: a noise density needs every coordinate
    handles_missing = False

    def __init__(self, family: Any, volume: Any = True, init: Any = None) -> None:
        beside = getattr(family, "beside_noise", None)  # a family that fits otherwise next to noise
        family = family if beside is None else beside()
        self.__dict__.update(family=family, volume=check_volume(volume), init=init, box=None)

    def __getattr__(self, name: str) -> Any:
        if name in _NOT_FORWARDED or name.startswith("__"):
            raise AttributeError(name)
        try:
            inner = self.__dict__["family"]
        except KeyError:  # during copying or unpickling, before __init__
            raise AttributeError(name) from None
        return getattr(inner, name)

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"NoiseFamily({self.family!r}, volume={self.volume if self.volume else True!r})"

    def _with(self, **changes: Any) -> NoiseFamily:
        out = NoiseFamily(self.family, True if self.volume is None else self.volume, self.init)
        out.__dict__.update({"box": self.box, **changes})
        return out

    # -- EM ------------------------------------------------------------------------
    def log_prob(self, X: np.ndarray, params: NoiseParams) -> np.ndarray:
        """The family's log-densities and the noise's ``-log V``, shape (n, K + 1)."""
        inner = self.family.log_prob(X, params.base)
        column = np.full((inner.shape[0], 1), -params.box.log_volume, dtype=inner.dtype)
        return np.concatenate([inner, column], axis=1)

    def anchor(self, params: NoiseParams) -> Any:
        return self.family.anchor(params.base)

    def accumulate(self, X: np.ndarray, resp: np.ndarray, anchor: Any) -> NoiseStats:
        """``resp`` (n, K + 1): the first K columns go to the family."""
        inner = self.family.accumulate(X, np.ascontiguousarray(resp[:, :-1]), anchor)
        return NoiseStats(nk=resp.sum(axis=0), base=inner)

    def m_step(self, stats: NoiseStats, previous: NoiseParams | None) -> NoiseParams:
        """The family's M-step on its statistics; the box stays."""
        box = self.box if previous is None else previous.box
        if box is None:
            raise InvalidParameterError("the noise family is not configured on data: no volume yet")
        base = self.family.m_step(stats.base, None if previous is None else previous.base)
        return NoiseParams(base=base, box=box)

    @property
    def weights_step(self) -> Any:
        """``None`` (the engine's maximum likelihood on the K + 1 sums) unless the family fixes
        its weights: then :meth:`noise_and_fixed_weights`."""
        return None if getattr(self.family, "weights_step", None) is None else self.noise_and_fixed_weights

    def noise_and_fixed_weights(self, nk: np.ndarray, previous_weights: np.ndarray | None) -> np.ndarray:
        """The noise weight ``nk[K] / N``; the K others as the family sets them, times ``1 - noise``
        (mclust's ``equalPro`` with a noise component).

        Parameters
        ----------
        nk : ndarray of shape (K + 1,)
        previous_weights : ndarray of shape (K + 1,) or None

        Returns
        -------
        ndarray of shape (K + 1,), float64
        """
        noise = float(nk[-1] / nk.sum())
        prev = None if previous_weights is None else previous_weights[:-1] / previous_weights[:-1].sum()
        inner = np.asarray(self.family.weights_step(nk[:-1], prev), dtype=np.float64)
        return np.append(inner * (1.0 - noise), noise)

    @property
    def log_prior(self) -> Any:
        """``None`` unless the family has an objective term (a MAP prior): then :meth:`component_log_prior`."""
        return None if getattr(self.family, "log_prior", None) is None else self.component_log_prior

    def component_log_prior(self, weights: np.ndarray, params: NoiseParams) -> float:
        """The family's ``log_prior`` of its K components (the noise has no prior), as a float.

        Parameters
        ----------
        weights : ndarray of shape (K + 1,)
        params : NoiseParams
        """
        inner = np.asarray(weights[:-1], dtype=np.float64)
        return float(self.family.log_prior(inner / inner.sum(), params.base))

    @property
    def log_likelihood_from_objective(self) -> Any:
        """The family's, on its K components, when the objective has a prior term; else ``None``."""
        if getattr(self.family, "log_likelihood_from_objective", None) is None:
            return None
        return lambda objective, weights, params: float(objective - self.component_log_prior(weights, params))

    def n_weight_parameters(self, n_components: int) -> int:
        """The family's count for K weights, and one for the noise weight (``n_components = K + 1``)."""
        count = getattr(self.family, "n_weight_parameters", None)
        k = n_components - 1
        return (k - 1 if count is None else int(count(k))) + 1

    def n_parameters(self, params: NoiseParams) -> int:
        """The family's, and one for the volume (estimated from the data, as mclust counts it)."""
        return int(self.family.n_parameters(params.base)) + 1

    def sample(self, rng: np.random.Generator, params: NoiseParams, counts: np.ndarray) -> np.ndarray:
        """Draws of the K components, then ``counts[K]`` uniform in the box."""
        inner = self.family.sample(rng, params.base, np.asarray(counts[:-1]))
        noise = params.box.sample(rng, int(counts[-1])).astype(inner.dtype, copy=False)
        return np.concatenate([inner, noise], axis=0)

    # -- optional protocols, handed on where they make sense -------------------------------
    def singular_components(self, params: NoiseParams) -> tuple[int, ...]:
        test = getattr(self.family, "singular_components", None)
        return () if test is None else tuple(test(params.base))

    def recentre_stats(self, stats: NoiseStats, like: NoiseStats) -> NoiseStats:
        from .base import recentre_stats

        return NoiseStats(nk=stats.nk, base=recentre_stats(self.family, stats.base, like.base))

    @property
    def supports_acceleration(self) -> bool:
        return bool(getattr(self.family, "supports_acceleration", False))

    def to_vector(self, params: NoiseParams) -> np.ndarray:
        return self.family.to_vector(params.base)

    def from_vector(self, vec: np.ndarray, like: NoiseParams) -> NoiseParams:
        return NoiseParams(base=self.family.from_vector(vec, like.base), box=like.box)

    # -- the start ---------------------------------------------------------------------
    def initial_params(self, source: Any, base_start: Any) -> Any:
        """mclust's start: the family's own start on the rows not guessed as noise.

        Parameters
        ----------
        source : a source
            The training rows.
        base_start : callable
            ``base_start(family, source, rows)`` gives the family's start
            (``MixtureParams`` of K weights) on ``source``; ``rows`` are the
            indices of its rows in the training data (``None``: all of them).

        Returns
        -------
        MixtureParams
            ``K + 1`` weights (the noise last: its share of the rows' weight)
            and :class:`NoiseParams`.
        """
        from ..sources import ArraySource

        guess = self.init
        if guess is None or np.ndim(guess) == 0:
            share = NOISE_START if guess is None else float(guess)
            start = base_start(self.family, source, None)
        else:
            mask = check_noise_guess(guess, source.n_samples)
            kept, weights, total, noise = [], [], 0.0, 0.0
            offset = 0
            for X, w in source.chunks():
                m = mask[offset : offset + X.shape[0]]
                ww = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
                noise, total = noise + float(ww[m].sum()), total + float(ww.sum())
                kept.append(X[~m])
                weights.append(None if w is None else w[~m])
                offset += X.shape[0]
            Xk = np.concatenate(kept, axis=0)
            wk = None if weights[0] is None else np.concatenate(weights)
            share = noise / total
            start = base_start(self.family, ArraySource(Xk, wk, max(Xk.shape[0], 1)), np.flatnonzero(~mask))
        weights = np.append(np.asarray(start.weights, dtype=np.float64) * (1.0 - share), share)
        return type(start)(weights=weights, components=NoiseParams(base=start.components, box=self.box))

    def start_weights(self, weights: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        """K + 1 starting weights from K given ones (``weights_init``): the noise keeps the share
        of ``previous`` (K + 1,), or the start's (``init`` or ``NOISE_START``)."""
        if previous is not None:
            share = float(previous[-1])
        else:
            share = NOISE_START if self.init is None or np.ndim(self.init) else float(self.init)
        return np.append(np.asarray(weights, dtype=np.float64) * (1.0 - share), share)

    # -- estimator interface -----------------------------------------------------------
    def configure(self, X: np.ndarray) -> NoiseFamily:
        """The family configured on ``X`` (n, D), and the noise's box from ``X`` (mclust's hypvol)."""
        return self._with(family=self.family.configure(X), box=self._box(box_of_array(X)))

    def configure_source(self, source: Any) -> NoiseFamily:
        """The box from every row of ``source`` (two passes), for data read chunk by chunk; the
        wrapped family learns what it needs from the rows too (a default prior's moments)."""
        inner = getattr(self.family, "configure_source", None)
        family = self.family if inner is None else inner(source)
        return self._with(family=family, box=self._box(box_of_source(source)))

    def map_inner(self, fn: Any) -> NoiseFamily:
        """The same noise over ``fn(family)`` (e.g. the family with equal weights)."""
        return self._with(family=fn(self.family))

    def _box(self, box: NoiseBox) -> NoiseBox:
        return box if self.volume is None else box.scaled_to(self.volume)

    def split_weights(self, weights: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """``weights_`` (K,) and the fitted scalars beside it: ``{"noise_weight": pi_noise}``.

        Parameters
        ----------
        weights : ndarray of shape (K + 1,)
        """
        return weights[:-1], {"noise_weight": float(weights[-1])}

    def join_weights(self, weights: np.ndarray, extra: dict[str, float]) -> np.ndarray:
        """Inverse of :meth:`split_weights`: shape (K + 1,)."""
        return np.append(np.asarray(weights, dtype=np.float64), float(extra["noise_weight"]))

    def array_names(self) -> tuple[str, ...]:
        return tuple(self.family.array_names()) + _BOX_ARRAYS

    def array_shapes(self, n_components: int, n_features: int) -> dict[str, tuple[int, ...]]:
        d = n_features
        shapes = getattr(self.family, "array_shapes", None)
        out = dict(shapes(n_components, d)) if callable(shapes) else {}
        out.update(noise_volume=(), noise_lower=(d,), noise_upper=(d,), noise_rotation=(d, d))
        return out

    def init_names(self) -> set[str]:
        names = getattr(self.family, "init_names", None)
        return set(names()) if names is not None else set(self.family.array_names())

    def to_arrays(self, params: NoiseParams) -> dict[str, np.ndarray]:
        out = dict(self.family.to_arrays(params.base))
        box = params.box
        out.update(
            noise_volume=np.asarray(box.volume),
            noise_lower=box.lower.copy(),
            noise_upper=box.upper.copy(),
            noise_rotation=box.rotation.copy(),
        )
        return out

    def from_arrays(self, arrays: dict, n_components: int, n_features: int) -> NoiseParams:
        """The family's parameters, and the box from the ``noise_*`` arrays (or the configured one)."""
        inner = {k: v for k, v in arrays.items() if k not in _BOX_ARRAYS}
        base = self.family.from_arrays(inner, n_components, n_features)
        if all(arrays.get(k) is not None for k in _BOX_ARRAYS[1:]):
            box = _box_from_arrays(arrays, n_features)
        elif self.box is not None:
            box = self.box
        else:
            raise InvalidParameterError("noise_lower, noise_upper and noise_rotation are needed")
        return NoiseParams(base=base, box=box)

    def derived_arrays(self, params: NoiseParams) -> dict[str, np.ndarray]:
        derived = getattr(self.family, "derived_arrays", None)
        return {} if derived is None else dict(derived(params.base))

    def for_missing(self, X: np.ndarray) -> Any:
        raise InvalidParameterError(
            "a noise component cannot be fitted to data with missing values (NaN): drop or impute them"
        )

    def spec(self) -> dict:
        """The wrapped family's spec and ``noise``: ``True`` or the volume (the guess is not kept)."""
        return {**self.family.spec(), "noise": True if self.volume is None else self.volume}


def _box_from_arrays(arrays: dict, d: int) -> NoiseBox:
    """The box of a model file or user arrays, checked (a side > 0, rotation orthonormal)."""
    lower = np.asarray(arrays["noise_lower"], dtype=np.float64)
    upper = np.asarray(arrays["noise_upper"], dtype=np.float64)
    rotation = np.asarray(arrays["noise_rotation"], dtype=np.float64)
    if lower.shape != (d,) or upper.shape != (d,) or rotation.shape != (d, d):
        raise InvalidParameterError(
            f"noise_lower and noise_upper must have shape ({d},) and noise_rotation ({d}, {d}); got "
            f"{lower.shape}, {upper.shape}, {rotation.shape}"
        )
    if not (np.isfinite(lower).all() and np.isfinite(upper).all() and (upper > lower).all()):
        raise InvalidParameterError("noise_upper must exceed noise_lower in every coordinate, both finite")
    if not np.allclose(rotation.T @ rotation, np.eye(d), atol=1e-8):
        raise InvalidParameterError("noise_rotation must have orthonormal columns")
    box = NoiseBox(lower, upper, rotation)
    volume = arrays.get("noise_volume")
    if volume is None:
        return box
    volume = np.asarray(volume, dtype=np.float64)
    if volume.size != 1:  # a scalar (a model file) or one value (a checkpoint stores arrays of 1-D)
        raise InvalidParameterError(f"noise_volume must be one number; got shape {volume.shape}")
    if not np.isclose(float(volume.reshape(())), box.volume, rtol=1e-9):
        raise InvalidParameterError(
            f"noise_volume {float(volume.reshape(()))!r} is not the volume of the noise box ({box.volume!r})"
        )
    return box


def check_noise_guess(guess: Any, n_samples: int) -> np.ndarray:
    """``noise_init`` as a bool mask of shape (n_samples,), at least one row not guessed.

    Raises
    ------
    InvalidParameterError
        Wrong length, values other than 0/1, or every row guessed as noise.
    """
    arr = np.asarray(guess)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise InvalidParameterError(
            f"noise_init must be one flag per row, shape ({n_samples},), got shape {arr.shape}; "
            "give True where a row is guessed to be noise"
        )
    if arr.dtype != bool:
        if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
            bad = int(np.flatnonzero(~np.isin(arr, (0, 1)))[0]) if arr.dtype.kind in "biuf" else 0
            raise InvalidParameterError(
                f"noise_init must hold True/False (or 1/0); row {bad + 1} (counting from 1) has {arr[bad].item()!r}"
            )
        arr = arr.astype(bool)
    if arr.all():
        raise InvalidParameterError(
            "noise_init guesses every row as noise; the components need some rows to start from"
        )
    return arr


def with_noise(family: Any, noise: Any, init: Any = None) -> Any:
    """``NoiseFamily(family, noise, init)`` unless ``noise`` is ``False`` (then ``family``).

    Raises
    ------
    InvalidParameterError
        When ``noise`` is neither a bool nor a positive volume, or ``init``
        is given without a noise component or is a number outside (0, 1).
    """
    if noise is False or (isinstance(noise, np.bool_) and not noise):
        if init is not None:
            raise InvalidParameterError("noise_init is given but noise=False: set noise=True to use it")
        return family
    if init is not None and np.ndim(init) == 0:
        if isinstance(init, (bool, np.bool_)) or not 0.0 < float(init) < 1.0:
            raise InvalidParameterError(
                f"noise_init={init!r}: a starting noise weight must lie strictly between 0 and 1 "
                "(or give one True/False flag per row)"
            )
    return NoiseFamily(family, True if noise is True or isinstance(noise, np.bool_) else noise, init)
