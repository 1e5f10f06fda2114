"""Optional numba kernels: the fused Gaussian E-step and statistics in one pass.

Each kernel reads the rows of one chunk once, in blocks of :data:`~emix._kernels.numba_gaussian.BLOCK` rows,
and computes for every row all K log-densities from the Cholesky factors of
the precisions, their log-sum-exp, the responsibilities and their
contributions to ``nk``, ``s1`` (centred on ``centre``) and ``s2``; no
``(n, K)`` or ``(n, D)`` temporary is made. The sums over blocks and the log-sum-exp are
float64 for float32 data too; the products within a block are float64 for
``full`` (below :data:`~emix._kernels.numba_full.BLAS_MIN_FEATURES` features, float32
data below :data:`~emix._kernels.numba_full.BLAS_MIN_FEATURES_F32`) and ``tied``
(below :data:`~emix._kernels.numba_gaussian.TIED_BLAS_MIN_FEATURES`, float32 data below
:data:`~emix._kernels.numba_gaussian.TIED_BLAS_MIN_FEATURES_F32`), in the data's dtype
for ``diag``, ``spherical`` (in BLAS from
:data:`~emix._kernels.numba_axis_blas.AXIS_BLAS_MIN_FEATURES` features on) and the
wide ``full`` and ``tied`` blocks that run in BLAS, so the float32 path is at least as
accurate as NumPy's float32 kernels.

The kernels are compiled with ``nogil=True`` and run on the threads of
:class:`emix.engine.pool.ChunkPool`, one chunk per call, so the sum over chunks
is still taken in chunk order and does not depend on the number of threads.
For an in-memory array, :mod:`.numba_groups` runs them over row groups fixed
by the number of rows (one call per thread and pass, no chunks), each group's
statistics in its own slot, added in group order.
``cache=True``: compilation (a few seconds per covariance model and dtype)
happens once per machine.

numba is optional (the ``fast`` extra). Without it, or with the environment
variable ``EMIX_NUMBA=0``, or after :func:`set_enabled(False) <set_enabled>`,
:func:`kernels` returns ``None`` and the NumPy kernels of
:mod:`emix.families.gaussian` run instead.

Kernels that call kernels of another module of this package (the compiled EM
loops call the fused kernels and the mclust solvers) are cached by numba
against their own file only: after editing a kernel, remove
``emix/_kernels/__pycache__`` so that its callers are compiled again.

The exponential is computed here (Cody and Waite's reduction to
``|r| <= log(2)/2`` and a degree-13 Taylor polynomial, error below 2 ulp)
rather than by ``libm``, so that the loop vectorises; so is the logarithm of each row's
sum (``libm``'s scalar call cost 8.3 ns a row: the reduction to ``[sqrt(2)/2, sqrt(2))``
and the ``atanh`` series, within 1 ulp of NumPy's).
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

_state = {"enabled": os.environ.get("EMIX_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")}
_lock = threading.Lock()
_loaded: list = []


def set_enabled(flag: bool) -> None:
    """Use (``True``, the default when numba is installed) or bypass the numba kernels."""
    _state["enabled"] = bool(flag)


@contextlib.contextmanager
def use_numba(flag: bool):
    """Context manager form of :func:`set_enabled` (restores the previous setting)."""
    old = _state["enabled"]
    _state["enabled"] = bool(flag)
    try:
        yield
    finally:
        _state["enabled"] = old


def numba_available() -> bool:
    """True when numba can be imported (whether or not the kernels are enabled)."""
    return _load() is not None


def kernels():
    """The compiled-kernel namespace, or ``None`` when numba is missing or disabled."""
    if not _state["enabled"]:
        return None
    return _load()


def kernels_for(model: str, X: np.ndarray):
    """The kernels when they beat NumPy's for ``model`` on data like ``X``, else ``None``.

    Measured per chunk on the benchmark machine (2-core AMD EPYC): numba wins
    for every model in float64 (1.3-4x at D=2, up to 3x for ``full`` at D = 8,
    16), for ``diag`` and ``spherical`` in float32 (their kernel computes the
    densities and the per-block statistics in the data's precision: 0.5 ms
    against NumPy's 0.6 ms per 12.5k x 16 chunk, K=8), and for ``full`` and
    ``tied`` in float32, whose products run in float32 BLAS from compiled code
    where they are wide (``tied`` at D = 64: 4.0 against 6.6 ms) and in float64
    loops below that (``TIED_BLAS_MIN_FEATURES_F32``). ``model`` is kept for a
    model whose kernel would lose.
    """
    kern = kernels()
    if kern is None or X.dtype not in (np.float64, np.float32):
        return None
    return kern


_extra: dict = {}


def _load_extra(name: str):
    """A further numba module of this package (imported once), or ``None`` without numba or disabled."""
    if not _state["enabled"] or _load() is None:
        return None
    mod = _extra.get(name)
    if mod is None:
        with _lock:
            mod = _extra.get(name)
            if mod is None:
                import importlib

                mod = _extra[name] = importlib.import_module(f"{__name__}.{name}")
    return mod


def prepared_kernels():
    """The fused kernels that prepare their constants themselves (:mod:`.numba_prepared`), or ``None``."""
    return _load_extra("numba_prepared")


def axis_kernels():
    """The diagonal and spherical models' fused kernels (:mod:`.numba_axis`), or ``None``."""
    return _load_extra("numba_axis")


def mclust_kernels():
    """The compiled inner solvers of the mclust M-steps (:mod:`.numba_mclust`), or ``None``."""
    return _load_extra("numba_mclust")


def em_kernels():
    """The compiled whole-EM loop of the axis-aligned models (:mod:`.numba_em`), or ``None``."""
    return _load_extra("numba_em")


def em_full_kernels():
    """The compiled whole-EM loop of the full and shared covariance models (:mod:`.numba_em_full`)."""
    return _load_extra("numba_em_full")


def init_kernels():
    """The distances of the k-means starts (:mod:`.numba_init`), or ``None``."""
    return _load_extra("numba_init")


def group_kernels():
    """The fused kernels over fixed row groups of a whole array (:mod:`.numba_groups`), or ``None``."""
    return _load_extra("numba_groups")


def _load():
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    from . import numba_gaussian as _numba_kernels
                except ImportError:
                    _loaded.append(None)
                else:
                    _loaded.append(_numba_kernels)
    return _loaded[0]


def weights_arg(w: np.ndarray | None) -> np.ndarray:
    """Sample weights as the kernels take them: float64, length 0 for 'no weights'."""
    if w is None:
        return _NO_WEIGHTS
    return np.ascontiguousarray(w, dtype=np.float64)


_NO_WEIGHTS = np.empty(0, dtype=np.float64)
