"""Per-iteration time, whole-fit time and peak memory of both libraries; the fit overhead.

The per-iteration clock ticks at every M-step of the fit: scikit-learn's ``_m_step`` is wrapped
on the estimator, emix's ``m_step`` is wrapped where the engine's driver looks it up by name.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc

import numpy as np
from sklearn.mixture import GaussianMixture as SkGM

from emix import GaussianMixture as EmGM
from emix.engine import m_step

from . import clock as _clock
from .cases import case_name, make_data, start_params

SK_BLAS_THREADS = None  # --sklearn-blas-threads: hold scikit-learn's BLAS to this many threads

#: seconds of rest before each timed whole fit: BLAS threads left spinning by the fit before
#: (OpenBLAS's and OpenMP's wait a while for more work) took a core from the next one; on the
#: 2-core benchmark machine a 100k x 2 emix fit of 8 iterations took 10-15 ms more right after
#: a scikit-learn fit than alone, which the whole-fit ratio charged to emix
SETTLE = 0.25


def _m_step_sites() -> tuple:
    """The engine's modules that hold ``m_step`` as a global: the driver calls it by that name.

    Found from the face :mod:`emix.engine` rather than named, so that a split of the engine into
    more modules keeps the clock on the driver's M-step (the estimators' own initial M-step, in
    their modules, is not wrapped).
    """
    return tuple(
        mod
        for name, mod in sorted(sys.modules.items())
        if (name == "emix.engine" or name.startswith("emix.engine."))
        and getattr(mod, "m_step", None) is m_step
    )


M_STEP_SITES = _m_step_sites()


class MStepClock:
    """Timestamps of the M-steps of one fit (emix: the driver's m_step; sklearn: ``_m_step``)."""

    def __init__(self):
        self.stamps: list[float] = []

    def tick(self):
        self.stamps.append(_clock.now())

    def per_iter(self) -> list[float]:
        return list(np.diff(self.stamps))


def run_sklearn(X, cov, init, iters, clock=None):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(SK_BLAS_THREADS):
        return _run_sklearn(X, cov, init, iters, clock)


def _run_sklearn(X, cov, init, iters, clock=None):
    gm = SkGM(len(init["weights_init"]), covariance_type=cov, tol=0, max_iter=iters, **init)
    if clock is not None:
        orig = gm._m_step

        def wrapped(*a, **kw):
            out = orig(*a, **kw)
            clock.tick()
            return out

        gm._m_step = wrapped
    gm.fit(X)
    return gm, float(gm.lower_bound_ * X.shape[0])


def run_emix(X, cov, init, iters, clock=None):
    gm = EmGM(
        len(init["weights_init"]), covariance_type=cov, tol=0, max_iter=iters, accelerate=False,
        n_jobs=_clock.THREADS[0], **init,
    )  # fmt: skip
    orig = m_step
    if clock is not None:

        def wrapped(*a, **kw):
            out = orig(*a, **kw)
            clock.tick()
            return out

        for mod in M_STEP_SITES:
            mod.m_step = wrapped
    try:
        gm.fit(X)
    finally:
        for mod in M_STEP_SITES:
            mod.m_step = orig
    return gm, float(gm.history_[-2] if len(gm.history_) > 1 else gm.history_[-1])


def peak_memory(fn) -> float:
    """Peak bytes allocated during ``fn()`` above the level before it."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return float(peak - base)


def flops_per_iter(n, d, k, cov) -> float:
    """Multiply-add work of one E+M iteration (2 FLOPs per multiply-add), the GEMM-shaped part."""
    return {
        "full": 4.0 * n * k * d * d,  # (x - mu_k) U_k and the weighted scatter, per component
        "tied": 4.0 * n * d * d + 4.0 * n * k * d,  # X U, X^T X once; (n, D) x (D, K) twice
        "diag": 8.0 * n * k * d,  # [x, x^2] (n, 2D) x (2D, K), for densities and statistics
        "spherical": 4.0 * n * k * d,  # x (n, D) x (D, K), for densities and statistics
    }[cov]


def _check_compiled(X, cov, init) -> None:
    """An unclocked fit must be the compiled loop's (data in one chunk); otherwise the clock is broken."""
    from emix.engine import driver

    seen = []
    orig = driver._compiled_run

    def spy(*a, **kw):
        out = orig(*a, **kw)
        seen.append(out is not None)
        return out

    driver._compiled_run = spy
    try:
        run_emix(X, cov, init, 1)
    finally:
        driver._compiled_run = orig
    if seen != [True]:
        raise RuntimeError(
            "no emix M-step was clocked: the engine's driver no longer calls emix.engine.m_step "
            f"by that name in any of {[m.__name__ for m in M_STEP_SITES]}"
        )


def fixed_cost_parts(n, d, k, cov="diag", reps=5):
    """The parts of a fit outside its iterations, same start as the per-iteration rows, ``max_iter=0``.

    ``validation and preparation`` (``_prepare_fit``: the data's checks, the family, the user's
    start), ``start`` (``_start``), ``final pass`` (``run_em`` with no iteration: the pool and
    the pass at the final parameters), ``attributes`` (``_set_fitted``) and ``whole fit(0)``;
    the best of ``reps``. scikit-learn's per-iteration time of the same case is given beside.
    """
    from emix.estimators import core

    X, centres = make_data(n, d, k, np.float64)
    init = start_params(X, centres, k, cov)
    parts: dict[str, float] = {}
    wrapped = [(core.MixtureEstimator, m) for m in ("_prepare_fit", "_start", "_set_fitted")] + [
        (core, "run_em")
    ]
    origs = [(obj, name, getattr(obj, name)) for obj, name in wrapped]

    def timer(name, fn):
        def w(*a, **kw):
            t = _clock.now()
            out = fn(*a, **kw)
            parts[name] = parts.get(name, 0.0) + _clock.now() - t
            return out

        return w

    best: dict[str, float] | None = None
    try:
        for obj, name, fn in origs:
            setattr(obj, name, timer(name, fn))
        run_emix(X, cov, init, 1)
        for _ in range(reps):
            parts.clear()
            total = _timeit(lambda: run_emix(X, cov, init, 0))
            row = dict(parts, total=total)
            best = row if best is None or total < best["total"] else best
    finally:
        for obj, name, fn in origs:
            setattr(obj, name, fn)
    sk1 = min(_timeit(lambda: run_sklearn(X, cov, init, 1)) for _ in range(2))
    sk3 = min(_timeit(lambda: run_sklearn(X, cov, init, 3)) for _ in range(2))
    return {
        "case": case_name(n, d, k),
        "cov": cov,
        "validation": best["_prepare_fit"],
        "start": best["_start"],
        "final_pass": best["run_em"],
        "attributes": best["_set_fitted"],
        "total": best["total"],
        "sk_iter": (sk3 - sk1) / 2,
        "sk_fixed": sk1 - (sk3 - sk1) / 2,
    }


def _alternating_fits(X, cov, init, iters, repeats):
    """Timed fits of both libraries, alternating which goes first: per-iteration and whole-fit times."""
    sk_it, em_it, sk_fit, em_fit = [], [], [], []
    ll_sk = ll_em = None
    for r in range(repeats):
        order = ("sk", "em") if r % 2 == 0 else ("em", "sk")
        for who in order:
            clock = MStepClock()
            time.sleep(SETTLE)
            t = _clock.now()
            if who == "sk":
                _, ll_sk = run_sklearn(X, cov, init, iters, clock)
                sk_fit.append(_clock.now() - t)
                sk_it += clock.per_iter()
            else:
                _, ll_em = run_emix(X, cov, init, iters, clock)
                em_fit.append(_clock.now() - t)
                if clock.stamps:
                    em_it += clock.per_iter()
                else:  # one chunk, the compiled loop: no M-step to clock; (fit - fit(0)) / iters
                    em_it += [(em_fit[-1] - _timeit(lambda: run_emix(X, cov, init, 0))) / iters] * iters
                    _check_compiled(X, cov, init)
    return sk_it, em_it, sk_fit, em_fit, ll_sk, ll_em


def bench_case(n, d, k, cov, dtype, iters, repeats, rates, bandwidth):
    X, centres = make_data(n, d, k, dtype)
    init = start_params(X, centres, k, cov)
    sk_it, em_it, sk_fit, em_fit, ll_sk, ll_em = _alternating_fits(X, cov, init, iters, repeats)
    mem_iters = 2
    mem_sk = peak_memory(lambda: run_sklearn(X, cov, init, mem_iters))
    mem_em = peak_memory(lambda: run_emix(X, cov, init, mem_iters))
    rel = abs(ll_sk - ll_em) / abs(ll_sk)
    t_sk, t_em = statistics.median(sk_it), statistics.median(em_it)
    flops = flops_per_iter(n, d, k, cov)
    # GEMM-shaped FLOPs at the matrix-multiply rate plus n (K + 1) exponentials and logarithms at
    # the machine's exp rate (runs before this term existed have no "exp" rate), or the data's bytes
    transcendental = n * (k + 1) / rates["exp"] if "exp" in rates else 0.0
    compute = flops / rates[np.dtype(dtype).name] + transcendental
    bound = max(compute, n * d * np.dtype(dtype).itemsize / bandwidth)
    return {
        "case": case_name(n, d, k),
        "cov": cov,
        "dtype": np.dtype(dtype).name,
        "sk_iter": t_sk,
        "em_iter": t_em,
        "iter_ratio": t_sk / t_em,
        "sk_fit": statistics.median(sk_fit),
        "em_fit": statistics.median(em_fit),
        "fit_ratio": statistics.median(sk_fit) / statistics.median(em_fit),
        "sk_mem": mem_sk / 2**20,
        "em_mem": mem_em / 2**20,
        "data_mem": X.nbytes / 2**20,
        "bound": bound,
        "bound_ratio": t_em / bound,
        "rel_ll": rel,
        "d": d,
    }


def _timeit(fn) -> float:
    t = _clock.now()
    fn()
    return _clock.now() - t


def fit_overhead(n, d, k, reps=3):
    """Time of everything but the iterations: emix ``max_iter=0`` fits (k-means init + final pass)."""
    X, _ = make_data(n, d, k, np.float64)
    em_t = min(_timeit(lambda: EmGM(k, max_iter=0, random_state=0).fit(X)) for _ in range(reps))
    # scikit-learn cannot run 0 iterations: one iteration, minus its per-iteration median
    sk_t = min(_timeit(lambda: SkGM(k, max_iter=1, random_state=0).fit(X)) for _ in range(reps))
    return {"case": case_name(n, d, k), "em_overhead": em_t, "sk_fit1": sk_t}
