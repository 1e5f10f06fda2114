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


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _best_time(fn, reps: int) -> float:
    fn()
    best = np.inf
    for _ in range(reps):
        t = clock.now()
        fn()
        best = min(best, clock.now() - t)
    return best


def exp_rates(n: int = 4096, rounds: int = 500, reps: int = 5) -> dict:
    """Exponentials per second, all cores (one core's rate times the cores), of NumPy's ``exp``
    and of emix's own branch-free exponential (``_exp_block``, the one the kernels use), on
    ``n`` values held in the L1/L2 cache, ``rounds`` times over.

    On a CPU without AVX-512 NumPy's float64 ``exp`` is the scalar one (an AMD EPYC: 5.4-7.6 ns
    a value, against emix's 2.1), on one with it NumPy's is the faster (an Intel Xeon: about
    0.7 against 1.0 ns). The transcendental part of the roofline bound (an iteration takes
    ``n K`` exponentials, the responsibilities, and ``n`` logarithms, the log-sum-exp) counts
    them at the faster of the two (``run._measure_machine``).
    """
    x = -np.abs(np.random.default_rng(0).standard_normal(n))
    out = np.empty_like(x)

    def numpy_exp():
        for _ in range(rounds):
            np.exp(x, out=out)

    rates = {"numpy": n * rounds / _best_time(numpy_exp, reps) * _cores()}
    try:
        emix_exp = _emix_exp_loop()
    except ImportError:  # no numba
        return rates
    rates["emix"] = n * rounds / _best_time(lambda: emix_exp(x, out, rounds), reps) * _cores()
    return rates


def _emix_exp_loop():
    import numba as nb

    from emix._kernels.numba_gaussian import _exp_block

    @nb.njit
    def run(x, out, rounds):
        kd, scale = np.empty(x.size), np.empty(x.size)
        for _ in range(rounds):
            out[:] = x
            _exp_block(out, x.size, kd, scale)

    return run


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
