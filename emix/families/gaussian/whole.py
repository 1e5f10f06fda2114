"""A whole plain EM run of a Gaussian family in one compiled loop (``emix._kernels.numba_em*``).

:func:`whole_em` is :meth:`GaussianFamily.whole_em <emix.families.gaussian.GaussianFamily.whole_em>`,
the optional protocol :func:`emix.engine.run_em` asks for when the data are held in
one chunk (see ``docs/speed.md``, "What runs compiled").
"""

from __future__ import annotations

import numpy as np

from ... import _kernels
from .mclust import EEE, EEI, EEV, EII, EVE, EVI, EVV, VEE, VEV, VII, VVE, VVI, VVV, E, V
from .params import GaussianParams
from .sklearn_models import DiagCovariance, FullCovariance, SphericalCovariance, TiedCovariance

#: The most iterations of one compiled run (its history is allocated up front).
WHOLE_EM_CAP = 1_000_000

#: The models :func:`emix._kernels.numba_em.axis_em` runs, and its ``mode`` for each.
_AXIS_MODES: dict[type, int] = {
    VVI: 0, DiagCovariance: 0, VII: 1, SphericalCovariance: 1, V: 1, EII: 2, E: 2, EEI: 3, EVI: 4,
}  # fmt: skip
#: The models :func:`emix._kernels.numba_em_full.full_em` runs, and its ``mode`` for each.
_FULL_MODES: dict[type, int] = {
    VVV: 0, FullCovariance: 0, EEE: 1, TiedCovariance: 1, EEV: 2, VEV: 3, EVV: 4, VEE: 5, EVE: 6, VVE: 7,
}  # fmt: skip

#: (tol, max_iter) handed to the compiled loop for models without an inner solver (unused there)
_NO_INNER = (float(np.sqrt(np.finfo(np.float64).eps)), 1000)


def whole_em(
    family,
    X: np.ndarray,
    w: np.ndarray | None,
    weights: np.ndarray,
    params: GaussianParams,
    *,
    max_iter: int,
    tol: float,
    rule: str,
    total_weight: float,
    rtol: float = 0.0,
    eps: float = 0.0,
    exact: bool = True,
) -> dict | None:
    """Plain EM in one compiled loop (``emix._kernels.numba_em*``).

    The loop takes the driver's steps, checks and stopping rules
    (``"mclust"``, ``"sklearn"`` and ``"aitken"``), so the fit equals the
    Python loop's to rounding; at most :data:`WHOLE_EM_CAP` iterations.
    ``exact``: the driver's ``stop_degenerate`` steps, with an exact
    M-step (``reg_covar=0``); otherwise its default steps, ``reg_covar``
    added as the NumPy M-step adds it, and a step the NumPy M-step would
    repair ends the run with ``status`` ``HANDBACK``
    (:mod:`emix._kernels.numba_em_rules`): the driver then iterates in
    Python. ``None`` when it does not apply: no numba, a model it does
    not have (or a subclass of one), ``exact`` with ``reg_covar > 0``,
    float32 data or another rule; the driver then iterates in Python.

    Parameters
    ----------
    X : ndarray of shape (n, D)
    w : ndarray of shape (n,) or None
    weights : ndarray of shape (K,)
    params : GaussianParams
        The start.
    max_iter, tol, rule, total_weight
        As :func:`emix.engine.run_em` takes them.
    rtol, eps : float
        The ``"aitken"`` rule's relative tolerance and machine epsilon, as
        :class:`emix.engine.ConvergenceMonitor` holds them (``rtol`` raised to ``16 eps``).
    exact : bool
        The driver's ``stop_degenerate``.

    Returns
    -------
    dict or None
        ``weights``, ``components`` (GaussianParams), ``history`` (list),
        ``passes``, ``converged``, ``status``, ``flagged`` (the
        components of a refused step) and ``map_log_sum`` (``sum_n log
        max_k p(k | x_n)`` at the final parameters, unweighted: ICL's term);
        ``status`` alone when it is ``HANDBACK``.
    """
    model = type(family.model)
    rules = {"mclust": 0, "sklearn": 1, "aitken": 2}
    if (exact and family.reg_covar != 0) or rule not in rules or X.dtype != np.float64:
        return None
    if params.means.dtype != np.float64 or model not in _AXIS_MODES and model not in _FULL_MODES:
        return None
    kern = _kernels.em_kernels()
    if kern is None:
        return None
    k, d = params.means.shape
    wts, means = np.array(weights, dtype=np.float64), np.array(params.means, dtype=np.float64)
    iters = min(max(int(max_iter), 0), WHOLE_EM_CAP)
    history, flagged = np.empty(iters + 1), np.zeros(k, dtype=np.bool_)
    Xc, wc, code = np.ascontiguousarray(X), _kernels.weights_arg(w), rules[rule]
    extra = (float(family.reg_covar), float(rtol), float(eps), bool(exact))
    cov = np.asarray(params.covariances, dtype=np.float64)
    if model in _AXIS_MODES:
        var = np.array(np.repeat(cov[:, None], d, axis=1) if cov.ndim == 1 else cov, order="C")
        out = kern.axis_em(
            Xc, wc, _AXIS_MODES[model], wts, means, var, iters, float(tol), code, float(total_weight),
            history, flagged, *extra,
        )  # fmt: skip
        if out[3] == kern.HANDBACK:
            return {"status": int(out[3])}
        out_cov = var[:, 0].copy() if cov.ndim == 1 else var
        pc = 1.0 / np.sqrt(out_cov)
        map_log_sum = kern.axis_map_log_sum(Xc, wts, means, var)
    else:
        full = _kernels.em_full_kernels()
        tied = cov.ndim == 2
        mats = np.array(np.broadcast_to(cov, (k, d, d)), order="C")
        U = np.array(np.broadcast_to(params.precisions_cholesky, (k, d, d)), dtype=np.float64, order="C")
        # the inner solver of mclust's iterative models; scikit-learn's full and tied have none
        tol_in = getattr(family.model, "inner_tol", _NO_INNER[0])
        cap_in = getattr(family.model, "inner_max_iter", _NO_INNER[1])
        out = full.full_em(
            Xc, wc, _FULL_MODES[model], wts, means, mats, U, iters, float(tol), code, float(total_weight),
            float(tol_in), int(cap_in), history, flagged, *extra,
        )  # fmt: skip
        if out[3] == kern.HANDBACK:
            return {"status": int(out[3])}
        out_cov, pc = (mats[0].copy(), U[0].copy()) if tied else (mats, U)
        map_log_sum = full.full_map_log_sum(Xc, wts, means, U)
    nh, passes, converged, status = out
    return {
        "weights": wts,
        "components": GaussianParams(means=means, covariances=out_cov, precisions_cholesky=pc),
        "history": history[:nh].tolist(),
        "passes": int(passes),
        "converged": bool(converged),
        "status": int(status),
        "flagged": tuple(int(c) for c in np.flatnonzero(flagged)),
        "map_log_sum": float(map_log_sum),
    }
