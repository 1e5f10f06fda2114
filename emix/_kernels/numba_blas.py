"""SciPy's BLAS, called from compiled kernels (importing this module imports numba).

The kernels of :mod:`.numba_full`, :mod:`.numba_gaussian` and :mod:`.numba_axis_blas`
(which import this module, not the other way round) hand blocks of rows
to ``trmm`` (a product with a triangular factor), ``syrk`` (a block's
scatter) and ``gemm`` (the diagonal models' sums) where that beats their loops. The routines are reached through their
addresses in ``scipy.linalg.cython_blas``, registered with LLVM under names of
their own, so that the compiled callers can still be cached (numba cannot cache
a function that holds a ctypes pointer). While a
:class:`~emix.engine.pool.ChunkPool` with more than one thread is open, BLAS runs
one thread per caller.

Layout: a block ``Y`` (nr, D) is row-major, so BLAS (column-major) sees ``Y^T``.
The product ``Y U`` is ``U^T Y^T``, ``U^T`` being the lower triangle of the
column-major view of an upper-triangular ``U``; the scatter ``Y^T Y``, written to
the upper triangle of the column-major view, is the lower triangle of the
row-major one.
"""

from __future__ import annotations

import llvmlite.binding as _llvm
import numba as nb
import numpy as np
from numba import types as _types
from numba.extending import get_cython_function_address

_JIT = {"nogil": True, "cache": True, "error_model": "numpy"}  # as in .numba_gaussian

#: rows per BLAS block (256: the best of 128, 256 and 512 for the full model at D = 64, K = 16)
BLAS_BLOCK = 256

for _name in ("dtrmm", "dsyrk", "strmm", "ssyrk", "dgemm", "sgemm"):
    _llvm.add_symbol(f"emix_{_name}", get_cython_function_address("scipy.linalg.cython_blas", _name))
_dtrmm = _types.ExternalFunction("emix_dtrmm", _types.void(*([_types.voidptr] * 11)))
_dsyrk = _types.ExternalFunction("emix_dsyrk", _types.void(*([_types.voidptr] * 10)))
_strmm = _types.ExternalFunction("emix_strmm", _types.void(*([_types.voidptr] * 11)))
_ssyrk = _types.ExternalFunction("emix_ssyrk", _types.void(*([_types.voidptr] * 10)))
_dgemm = _types.ExternalFunction("emix_dgemm", _types.void(*([_types.voidptr] * 13)))
_sgemm = _types.ExternalFunction("emix_sgemm", _types.void(*([_types.voidptr] * 13)))
# Fortran's character arguments, as bytes
_L, _N, _U, _T = 76, 78, 85, 84


@nb.njit(**_JIT)
def blas_args(d, dtype):
    """The scalars BLAS takes by reference: ``chars`` (L, N, U), ``sizes`` (D, rows),
    ``one`` and ``zero`` in ``dtype``'s precision. Set ``sizes[1]`` to a block's rows."""
    chars = np.array([_L, _N, _U], dtype=np.uint8)
    sizes = np.array([d, 0], dtype=np.int32)
    return chars, sizes, np.ones(1, dtype=dtype), np.zeros(1, dtype=dtype)


@nb.njit(**_JIT)
def trmm_upper(chars, sizes, one, u, y):
    """``y[:nr] := y[:nr] u`` in place for upper-triangular ``u`` (D, D) (C-contiguous,
    ``y``'s dtype), ``nr = sizes[1]``; float32 arrays go to ``strmm``."""
    _trmm(chars, chars[0:], sizes[0:], sizes[1:], sizes[0:], one, u, y)


@nb.njit(**_JIT)
def trmm_part(chars, dims, one, u, y, lower):
    """``y[:nr, :m] := y[:nr, :m] u[:m, :m]`` in place for triangular ``u`` (upper, or lower
    when ``lower``), ``m = dims[0]``, ``nr = dims[1]``; ``dims[2]`` is the rows' stride of ``u``
    and ``y``, which may be views that start inside larger arrays (``u[s:, s:]``, ``y[:, s:]``).
    Float32 arrays go to ``strmm``."""
    _trmm(chars, chars[2:] if lower else chars[0:], dims[0:], dims[1:], dims[2:], one, u, y)


@nb.njit(**_JIT)
def _trmm(chars, uplo, m, n, ld, one, u, y):
    """The column-major ``y^T := u^T y^T`` (side L, no transpose, non-unit diagonal) of
    :func:`trmm_upper` and :func:`trmm_part`: ``uplo``, ``m``, ``n`` and ``ld`` (the leading
    dimension of both) by reference, as BLAS takes them."""
    if y.itemsize == 4:
        _strmm(
            chars[0:].ctypes, uplo.ctypes, chars[1:].ctypes, chars[1:].ctypes, m.ctypes, n.ctypes,
            one.ctypes, u.ctypes, ld.ctypes, y.ctypes, ld.ctypes,
        )  # fmt: skip
    else:
        _dtrmm(
            chars[0:].ctypes, uplo.ctypes, chars[1:].ctypes, chars[1:].ctypes, m.ctypes, n.ctypes,
            one.ctypes, u.ctypes, ld.ctypes, y.ctypes, ld.ctypes,
        )  # fmt: skip


@nb.njit(**_JIT)
def syrk_lower(chars, sizes, one, zero, y, g):
    """The lower triangle of ``g`` (D, D) := ``y[:nr]^T y[:nr]``, ``nr = sizes[1]`` (the upper
    triangle is not written); float32 arrays go to ``ssyrk``."""
    if y.itemsize == 4:
        _ssyrk(
            chars[2:].ctypes, chars[1:].ctypes, sizes[0:].ctypes, sizes[1:].ctypes, one.ctypes,
            y.ctypes, sizes[0:].ctypes, zero.ctypes, g.ctypes, sizes[0:].ctypes,
        )  # fmt: skip
    else:
        _dsyrk(
            chars[2:].ctypes, chars[1:].ctypes, sizes[0:].ctypes, sizes[1:].ctypes, one.ctypes,
            y.ctypes, sizes[0:].ctypes, zero.ctypes, g.ctypes, sizes[0:].ctypes,
        )  # fmt: skip


@nb.njit(**_JIT)
def add_scatter(chars, sizes, one, zero, y, g, out):
    """Add the lower triangle of ``y[:nr]^T y[:nr]`` to that of ``out`` (D, D) (a float64
    accumulator), ``nr = sizes[1]``; ``g`` (D, D), ``y``'s dtype, is the block's scratch."""
    syrk_lower(chars, sizes, one, zero, y, g)
    d = g.shape[0]
    for a in range(d):
        for b in range(a + 1):
            out[a, b] += g[a, b]


@nb.njit(**_JIT)
def gemm_args(dtype):
    """The scalars :func:`gemm` takes by reference: ``chars`` (N, T), ``dims`` (m, n, k, lda,
    ldb, ldc: set by the caller), ``one`` and ``zero`` in ``dtype``'s precision."""
    chars = np.array([_N, _T], dtype=np.uint8)
    return chars, np.zeros(6, dtype=np.int32), np.ones(1, dtype=dtype), np.zeros(1, dtype=dtype)


@nb.njit(**_JIT)
def gemm(chars, ta, dims, one, zero, a, b, c):
    """Column-major ``c := op(a) b`` (``op(a) = a^T`` when ``ta``), ``dims`` = (m, n, k, lda,
    ldb, ldc); float32 arrays go to ``sgemm``. A row-major array (p, q) is its column-major
    (q, p) transpose with leading dimension q."""
    tra = chars[1:] if ta else chars[0:]
    if c.itemsize == 4:
        _sgemm(
            tra.ctypes, chars[0:].ctypes, dims[0:].ctypes, dims[1:].ctypes, dims[2:].ctypes,
            one.ctypes, a.ctypes, dims[3:].ctypes, b.ctypes, dims[4:].ctypes, zero.ctypes,
            c.ctypes, dims[5:].ctypes,
        )  # fmt: skip
    else:
        _dgemm(
            tra.ctypes, chars[0:].ctypes, dims[0:].ctypes, dims[1:].ctypes, dims[2:].ctypes,
            one.ctypes, a.ctypes, dims[3:].ctypes, b.ctypes, dims[4:].ctypes, zero.ctypes,
            c.ctypes, dims[5:].ctypes,
        )  # fmt: skip
