"""The machine: its description for the report and the two rates of the roofline bound."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np

from . import clock


def gemm_rate(dtype, n: int = 2000, reps: int = 5) -> float:
    """Matrix-multiply rate in FLOP/s (all cores, the BLAS's own threading)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b
    best = np.inf
    for _ in range(reps):
        t = clock.now()
        a @ b
        best = min(best, clock.now() - t)
    return 2.0 * n**3 / best


def exp_rate(n: int = 1 << 22, reps: int = 5) -> float:
    """Exponentials per second, all cores: NumPy's vectorised ``exp`` on one core times the cores.

    The transcendental part of the roofline bound: an iteration takes ``n K`` exponentials (the
    responsibilities) and ``n`` logarithms (the log-sum-exp), counted here at this rate.
    """
    x = -np.abs(np.random.default_rng(0).standard_normal(n))
    out = np.empty_like(x)
    np.exp(x, out=out)
    best = np.inf
    for _ in range(reps):
        t = clock.now()
        np.exp(x, out=out)
        best = min(best, clock.now() - t)
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return n / best * ncpu


def memory_bandwidth(nbytes: int = 1 << 29, reps: int = 5) -> float:
    """Read bandwidth in bytes/s: a sum over a large array (read once)."""
    a = np.ones(nbytes // 8)
    a.sum()
    best = np.inf
    for _ in range(reps):
        t = clock.now()
        a.sum()
        best = min(best, clock.now() - t)
    return nbytes / best


def _cpu_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']} {i.get('version')}" for i in threadpool_info())
    except Exception:  # pragma: no cover
        return "?"


def _kernels_in_use() -> str:
    from emix import _kernels  # no public face for the kernel switch

    if _kernels.kernels() is not None:
        import numba

        return f"numba {numba.__version__} kernels"
    return "NumPy kernels (numba off or missing)"


def machine_description() -> str:
    import scipy
    import sklearn

    cpu = _cpu_name()
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = _blas()
    kern = _kernels_in_use()
    return (
        f"{cpu}, {ncpu} cores; emix with {kern}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"SciPy {scipy.__version__}, scikit-learn {sklearn.__version__}; BLAS: {blas}"
    )
