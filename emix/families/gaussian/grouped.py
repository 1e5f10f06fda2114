"""A pass over a whole in-memory array in fixed row groups: :class:`GroupedPass`.

:meth:`GaussianFamily.prepare_groups <emix.families.gaussian.GaussianFamily.prepare_groups>`
offers one when a compiled fused kernel of :mod:`emix._kernels` applies (numba,
one of the four scikit-learn covariance models or an mclust model that shares
its E-step, C-contiguous data): the kernel then reads the rows in blocks with
no temporaries that grow with the rows, so the array needs no chunks. The
engine (:func:`emix.engine.passes.e_pass`) calls :meth:`GroupedPass.run` on
contiguous ranges of groups, from one thread or several, then
:meth:`GroupedPass.total`, which adds the groups' statistics in group order:
the result does not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np

from ... import _kernels
from ..._linalg import LOG_2PI
from .covariance import CovarianceModel
from .fused_kernels import global_centre
from .params import GaussianStats
from .sklearn_models import DiagCovariance, FullCovariance, SphericalCovariance, TiedCovariance

_KINDS = {
    FullCovariance: "full",
    TiedCovariance: "tied",
    DiagCovariance: "diag",
    SphericalCovariance: "spherical",
}


def group_kind(model: CovarianceModel, X: np.ndarray) -> str | None:
    """``"full"``, ``"tied"``, ``"diag"`` or ``"spherical"``: the compiled kernel a grouped pass of ``model`` on data
    like ``X`` runs; ``None`` when there is none (the chunked pass then runs)."""
    if not X.flags.c_contiguous or X.dtype not in (np.float64, np.float32):
        return None
    cls = type(model)
    owner = next((c for c in cls.__mro__ if "_fused_fast" in c.__dict__), None)
    kind = _KINDS.get(owner)
    if kind is None or cls.fused is not CovarianceModel.fused or cls.prepare is not owner.prepare:
        return None
    if not model._fast_kernel_applies() or _kernels.group_kernels() is None:
        return None
    if _kernels.kernels_for(kind, X) is None:
        return None
    return kind


#: The most memory the groups' slots of statistics may take together; beyond it (large K D**2 with
#: many groups) the chunked pass runs, whose statistics are held for the chunks in flight only.
SLOT_BUDGET = 32 << 20


def slots_fit(kind: str, k: int, d: int, n_groups: int) -> bool:
    """Whether ``n_groups`` slots of statistics of ``kind`` (K components, D features) fit in
    :data:`SLOT_BUDGET` (one slot always does)."""
    s2 = {"full": k * d * d, "tied": d * d}.get(kind, k * d)
    return n_groups <= 1 or 8 * n_groups * (k + k * d + s2 + 1) <= SLOT_BUDGET


def tied_scatter_memo(memo: dict | None, bounds: np.ndarray, d: int):
    """The buffers of the tied model's scatter of each row group, ``(known, known_w)``: ``known``
    (G, D + 2, D), ``known_w`` (G,), kept in ``memo`` for the next passes over the same groups
    (the kernel fills a group at its first pass with moments, about the group's mean: see
    :func:`emix._kernels.numba_groups.tied_groups`); ``memo=None``: empty buffers, each pass
    sums the scatter.

    A pass then shifts the group's scatter to its own centre, an exact identity, in place of a
    sum of ``n D**2 / 2`` products.
    """
    g = len(bounds) - 1
    if memo is None:
        return np.empty((0, d + 2, d)), np.empty(0)
    key = ("tied_scatter", bounds.tobytes(), d)
    known = memo.get(key)
    if known is None:
        known = memo[key] = (np.zeros((g, d + 2, d)), np.full(g, -1.0))
    return known


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


class GroupedPass:
    """One pass's kernel over the row groups of ``X``, with a slot of statistics per group.

    Parameters
    ----------
    kind : {"full", "tied", "diag", "spherical"}
        From :func:`group_kind`.
    model : CovarianceModel
    log_weights : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    prec_chol : ndarray, the model's shape
    anchor : ndarray of shape (K, D)
        The centre of the statistics.
    X : ndarray of shape (n, D), C-contiguous
    w : ndarray of shape (n,) or None
    bounds : ndarray of int64 of shape (G + 1,)
        Row bounds of the groups, ``0`` first and ``n`` last.
    moments : bool, default=True
        ``False``: the log-likelihood only (:meth:`total` gives ``None`` for the statistics).
    memo : dict or None, default=None
        A store kept for the passes over the same rows (:attr:`emix.sources.ArraySource.memo`):
        the tied model keeps its groups' scatter there (:func:`tied_scatter_memo`), summed once
        instead of at every pass.

    Examples
    --------
    >>> import numpy as np
    >>> from emix.families.gaussian.grouped import GroupedPass, group_kind
    >>> from emix.families.gaussian.sklearn_models import DiagCovariance
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> model, means = DiagCovariance(), np.array([[-1.0, 0.0], [1.0, 0.0]])
    >>> kind = group_kind(model, X)
    >>> if kind is not None:  # numba installed
    ...     run = GroupedPass(kind, model, np.log([0.5, 0.5]), means, np.ones((2, 2)), means, X, None,
    ...                       np.array([0, 500, 1000]))
    ...     run.run(0, 2)
    ...     stats, loglik = run.total()
    ...     assert abs(stats.nk.sum() - 1000) < 1e-9
    """

    def __init__(
        self, kind, model, log_weights, means, prec_chol, anchor, X, w, bounds, moments=True, memo=None
    ) -> None:
        k, d = means.shape
        g = len(bounds) - 1
        self.X, self.w, self.bounds, self.anchor = X, _kernels.weights_arg(w), bounds, anchor
        kern = _kernels.group_kernels()
        lw, mu, centre = _f64(log_weights), _f64(means), _f64(anchor)
        self.nk, self.s1, self.ll = np.empty((g, k)), np.empty((g, k, d)), np.empty(g)
        self.shift, self.moments = None, bool(moments)
        if kind == "full":
            self.s2 = np.empty((g, k, d, d))
            self.fn, self.args = kern.full_groups, (lw, mu, _f64(prec_chol), centre)
        elif kind == "tied":
            self.s2 = np.empty((g, d, d))
            known = tied_scatter_memo(memo if moments else None, bounds, d)
            self.fn, self.args = kern.tied_groups, (lw, mu, _f64(prec_chol), centre, *known)
        else:
            self.s2 = np.empty((g, k, d))
            prec = model._precisions64(prec_chol, d)
            sph = kind == "spherical"
            if X.dtype == np.float64:
                self.fn, self.args = kern.diag_groups, (lw, mu, _f64(prec), centre, sph)
            else:  # densities in the data's precision around the weighted centre, shifted after the sum
                gc = global_centre(mu, lw)
                m = mu - gc
                const = lw + 0.5 * np.log(prec).sum(axis=1) - 0.5 * d * LOG_2PI - 0.5 * (prec * m * m).sum(1)
                dt = X.dtype
                a, b = np.ascontiguousarray(prec * m, dt), np.ascontiguousarray(-0.5 * prec, dt)
                self.fn, self.args = kern.diag_shifted_groups, (gc.astype(dt), a, b, const, sph)
                self.shift = centre - gc

    @property
    def n_groups(self) -> int:
        """G."""
        return len(self.bounds) - 1

    def run(self, g0: int, g1: int) -> None:
        """Fill the slots of the groups ``g0 <= g < g1`` (any thread; the kernel releases the GIL)."""
        self.fn(
            self.X, self.w, *self.args, self.bounds, g0, g1, self.nk, self.s1, self.s2, self.ll, self.moments
        )

    def total(self) -> tuple[GaussianStats | None, float]:
        """The statistics (``None`` without moments) and log-likelihood of the whole pass, the
        groups added in group order."""
        add = _kernels.group_kernels().ordered_sum
        g = self.n_groups
        ll = np.empty(1)
        add(self.ll.reshape(g, 1), ll)
        if not self.moments:
            return None, float(ll[0])
        nk, s1, s2 = (np.empty(a.shape[1:]) for a in (self.nk, self.s1, self.s2))
        add(self.nk, nk)
        add(self.s1.reshape(g, -1), s1.reshape(-1))
        add(self.s2.reshape(g, -1), s2.reshape(-1))
        if self.shift is not None:  # statistics around the weighted centre -> around the anchors
            delta, t1 = self.shift, s1
            s1 = t1 - nk[:, None] * delta
            s2 = s2 - 2.0 * delta * t1 + nk[:, None] * delta * delta
        return GaussianStats(nk=nk, s1=s1, s2=s2, centre=self.anchor), float(ll[0])
