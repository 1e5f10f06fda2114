"""Where a fit starts: user-given arrays, or an initialiser's responsibilities and one M-step.

The estimator core calls :func:`check_user_start` before fitting and
:func:`initial_params` at every restart; both only ask the family (its
``array_names``, ``init_names``, ``from_arrays``, ``to_arrays`` and the
optional ``init_family`` / ``init_encode`` / ``init_decode_centres`` /
``init_fill_columns`` for families that start from a simpler variant of
themselves or from an encoding of the data).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import init as _init
from .._validation import check_init_array
from ..engine import MixtureParams, m_step, stats_from_responsibilities
from ..exceptions import InvalidParameterError
from ..families._common import DERIVED_ARRAYS
from ..sources import ArraySource, EncodedSource, MeanFilledSource


def check_weights_init(weights_init: Any, n_components: int) -> np.ndarray | None:
    """``weights_init`` as float64 of shape (K,), in [0, 1] and summing to 1, or ``None``.

    The sum is checked to the precision of the given array's dtype: float32
    weights that sum to one in float32 are accepted. Messages also carry
    scikit-learn's wording, so that code matching it keeps working.
    """
    if weights_init is None:
        return None
    given = np.asarray(weights_init)
    w = check_init_array(weights_init, "weights_init", (n_components,), "weights")
    if (w < 0).any() or (w > 1).any():
        low, high = float(w.min()), float(w.max())
        raise InvalidParameterError(
            f"weights_init must lie in [0, 1]; got min {low:.5g}, max {high:.5g} (scikit-learn "
            "reports this, with the two named the other way round, as: The parameter 'weights' "
            f"should be in the range [0, 1], but got max value {low:.5f}, min value {high:.5f})"
        )
    dtype = given.dtype if given.dtype.kind == "f" else np.dtype(np.float64)
    atol = max(1e-8, 4.0 * n_components * float(np.finfo(dtype).eps))
    total = float(w.sum())
    if abs(total - 1.0) > atol:
        raise InvalidParameterError(
            f"weights_init must sum to 1 (to {atol:.2g} for {dtype} weights), but they sum to "
            f"{total!r} (The parameter 'weights' should be normalized, but got sum(weights) = {total:.5f})"
        )
    return w


def is_full_start(family: Any, arrays: dict[str, Any], weights_given: bool, needs_weights: bool) -> bool:
    """Whether the user-given ``arrays`` (and weights) fix every starting parameter, so that no
    initialiser runs: the family's ``init_names()`` are all given and nothing unknown is."""
    if not arrays or (needs_weights and not weights_given):
        return False
    names = family.init_names() if hasattr(family, "init_names") else _derived_rule(family)
    return set(names) <= set(arrays) <= set(family.array_names())


def _derived_rule(family: Any) -> set[str]:
    """For a family without ``init_names``: its arrays less the derived ones (the families' rule)."""
    return {
        n
        for n in family.array_names()
        if n.split("_", 1)[-1] not in DERIVED_ARRAYS and n not in DERIVED_ARRAYS
    }


def check_user_start(
    family: Any, arrays: dict[str, Any], weights_init: Any, n_components: int, n_features: int, full: bool
) -> Any:
    """Check the user's starting values before fitting; a full start is built, to check it, and
    returned (its components, for :func:`apply_user_start`'s ``built``), else ``None``."""
    check_weights_init(weights_init, n_components)
    return family.from_arrays(arrays, n_components, n_features) if full else None


def apply_user_start(
    family: Any,
    params: MixtureParams | None,
    arrays: dict[str, Any],
    weights_init: Any,
    n_components: int,
    n_features: int,
    built: Any = None,
) -> MixtureParams:
    """``params`` with the user's weights and component arrays put in their place.

    ``params`` is ``None`` for a full start (the weights are then uniform unless given); its
    components are ``built`` when :func:`check_user_start` has built them from ``arrays``. A
    family with more weights than components (a noise component) completes the K given ones
    (``start_weights(weights, previous)``).
    """
    weights = np.full(n_components, 1.0 / n_components) if params is None else params.weights
    if weights_init is not None:
        weights = np.asarray(weights_init, dtype=np.float64).copy()
    extend = getattr(family, "start_weights", None)
    if extend is not None and weights.shape[0] == n_components:
        weights = extend(weights, None if params is None else params.weights)
    comps = None if params is None else params.components
    if params is None and built is not None:
        comps = built
    elif arrays:
        merged = {} if comps is None else dict(family.to_arrays(comps))
        merged.update(arrays)
        comps = family.from_arrays(merged, n_components, n_features)
    return MixtureParams(weights=weights, components=comps)


def initial_params(
    family: Any,
    source: Any,
    init_params: str,
    n_components: int,
    rng: np.random.Generator,
    *,
    missing: bool = False,
    pool: Any = None,
    labels: np.ndarray | None = None,
) -> MixtureParams:
    """Initial parameters: the initialiser's responsibilities, then one M-step.

    The initialiser (k-means ...) runs on the family's encoding of the data
    (``init_encode``: e.g. one-hot codes for categorical columns), with
    missing cells filled by the column means of that encoding; its centres
    are decoded to anchor the statistics. A family may take its first M-step
    as a simpler variant of itself (``init_family``: the missing-data Gaussian
    starts from the ordinary Gaussian on mean-filled rows).

    Parameters
    ----------
    family : family
        The family to fit (configured on the data).
    source : source
        The training rows.
    init_params : str
        An initialiser name (see :func:`emix.init.make_initialiser`).
    n_components : int
    rng : numpy Generator
    missing : bool
        Whether the rows have missing values (NaN), which the initialiser needs filled.
    pool : ChunkPool, optional
    labels : ndarray of int of shape (n_samples,), optional
        Partial labels: components with labelled rows start at those rows' mean.

    Returns
    -------
    MixtureParams

    A family with its own ``initial_params(source, base_start)`` (a noise
    component) makes the start itself, from the start of the family it wraps:
    ``base_start(family, source, rows)`` is this function on those rows
    (``rows``: their indices in the training data, for the labels; ``None``: all).
    """
    own = getattr(family, "initial_params", None)
    if own is not None:

        def base_start(inner: Any, rows_source: Any, rows: np.ndarray | None) -> MixtureParams:
            kept = labels if labels is None or rows is None else labels[rows]
            return initial_params(
                inner, rows_source, init_params, n_components, rng, missing=missing, pool=pool, labels=kept
            )

        return own(source, base_start)
    encode = getattr(family, "init_encode", None)
    init_source = source if encode is None else EncodedSource(source, encode)
    fill = None
    if missing:
        filled = MeanFilledSource(init_source)
        if filled.has_missing:
            init_source, fill = filled, filled.filler()

    def to_init_space(X: np.ndarray) -> np.ndarray:
        Z = X if encode is None else encode(X)
        return Z if fill is None else fill(Z)

    initialiser = _init.make_initialiser(init_params, init_source, n_components, rng, pool=pool)
    init_family = getattr(family, "init_family", family)
    if initialiser.subset is not None:
        if encode is None:  # mclust's start for large data: the M-step of the subset's partition
            rows = initialiser.subset
            stats = stats_from_responsibilities(
                ArraySource(rows, None, max(rows.shape[0], 1)),
                init_family,
                initialiser.resp_fn,
                init_family.anchor_from_centres(initialiser.centres),
            )
            return m_step(init_family, stats, None)
        initialiser = _init.nearest_initialiser(init_source, initialiser.centres)
    if labels is not None:
        initialiser = _init.seed_from_labels(initialiser, init_source, labels)
    stats_source = source
    if init_family is not family:
        stats_source = MeanFilledSource(source, columns=getattr(family, "init_fill_columns", None))
    centres = initialiser.centres
    decode = getattr(init_family, "init_decode_centres", None)
    anchor = init_family.anchor_from_centres(centres if encode is None else decode(centres))
    stats = stats_from_responsibilities(
        stats_source,
        init_family,
        lambda X, offset: initialiser.resp_fn(to_init_space(X), offset),
        anchor,
        pool=pool,
        labels=labels,
    )
    return m_step(init_family, stats, None)
