"""One benchmark run: the machine, the per-iteration rows, time to the optimum, the overhead, the report."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from emix import _kernels  # no public face for the kernel switch

from . import clock, report, results, timing
from . import machine as _machine
from .cases import COV_TYPES, LARGE_N, chosen_cases, optimum_cases, overhead_case
from .optimum import time_to_optimum


def _measure_machine(jsonl, load_before):
    machine = _machine.machine_description()
    exps = _machine.exp_rates()
    rates = {
        "float64": _machine.gemm_rate(np.float64),
        "float32": _machine.gemm_rate(np.float32),
        "exp": max(exps.values()),
        **{f"exp_{who}": rate for who, rate in exps.items()},
    }
    bw = _machine.memory_bandwidth()
    print(machine, flush=True)
    print(
        f"GEMM {rates['float64'] / 1e9:.1f} / {rates['float32'] / 1e9:.1f} GFLOP/s, bandwidth {bw / 1e9:.1f} GB/s"
    )
    results.dump(jsonl, "machine", {"machine": machine, "rates": rates, "bandwidth": bw, "load": load_before})
    return machine, rates, bw


def _per_iteration_rows(args, rates, bw) -> list[dict]:
    cases = chosen_cases(args.quick, args.cases)
    iters = args.iters or (3 if args.quick else 4)
    repeats = args.repeats or 2
    rows = []
    for dtype in () if args.only_optimum else (np.float64, np.float32):
        for n, d, k in cases:
            for cov in args.covs.split(",") if args.covs else COV_TYPES:
                it = args.iters_large if (args.iters_large and n >= LARGE_N) else iters
                r = timing.bench_case(n, d, k, cov, dtype, it, repeats, rates, bw)
                r["iters"] = it
                rows.append(r)
                results.dump(args.jsonl, "iter", r)
                print(report.iter_line(r), flush=True)
    return rows


#: ``n D K`` from which a time-to-optimum fit is timed once, not best of three (1M x 8, K=16
#: and 100k x 64, K=16: about 1e8; a scikit-learn iteration there takes seconds on one core)
LARGE_WORK = 50_000_000


def _optimum_rows(args) -> list[dict]:
    opt_rows = []
    for name, X, k, cov in optimum_cases(args.quick, args.cases):
        # the largest data sets' fits take seconds to minutes: each is timed once
        reps = 1 if X.shape[0] * X.shape[1] * k >= LARGE_WORK else 3
        r = time_to_optimum(name, X, k, cov, reps=reps)
        print(report.optimum_line(r), flush=True)  # each as it ends: the large cases take minutes
        results.dump(args.jsonl, "optimum", r)
        opt_rows.append(r)
    return opt_rows


def _overhead_rows(args) -> list[dict]:
    overhead = [timing.fit_overhead(*overhead_case(args.quick))]
    for o in overhead:
        print(report.overhead_line(o))
        results.dump(args.jsonl, "overhead", o)
    return overhead


def _fixed_rows(args) -> list[dict]:
    n = 50_000 if args.quick else 200_000
    fixed = [timing.fixed_cost_parts(n, 16, 8, cov) for cov in ("diag", "full")]
    for f in fixed:
        print(report.fixed_line(f), flush=True)
        results.dump(args.jsonl, "fixed", f)
    return fixed


def _hold_threads(n: int) -> None:
    """Both libraries on ``n`` threads: BLAS (for the whole run), numba's threads, emix's ``n_jobs``."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    timing.SK_BLAS_THREADS = n
    clock.THREADS[0] = n
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is an extra
        return
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def run(args) -> int:
    """Measure as ``args`` say (see :mod:`.cli`); print or write the report. 1 if float64 disagrees."""
    timing.SK_BLAS_THREADS = args.sklearn_blas_threads
    clock.use_cpu_time(args.cpu_time)
    if args.threads is not None:
        _hold_threads(args.threads)
    _kernels.set_enabled(args.numba == "auto")
    warnings.simplefilter("ignore")
    load_before = os.getloadavg()[0]
    machine, rates, bw = _measure_machine(args.jsonl, load_before)
    rows = _per_iteration_rows(args, rates, bw)
    opt_rows, overhead, fixed = [], [], []
    if not args.skip_optimum:
        opt_rows = _optimum_rows(args)
        overhead = _overhead_rows(args)
        fixed = _fixed_rows(args)
    return finish(args, machine, load_before, rates, bw, rows, opt_rows, overhead, fixed)


def finish(args, machine, load_before, rates, bw, rows, opt_rows, overhead, fixed=()) -> int:
    results.dump(args.jsonl, "end", {"load": os.getloadavg()[0]})
    load = f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    load += f"; times are {clock.name()}"
    if clock.THREADS[0] is not None:
        load += f", both libraries held to {clock.THREADS[0]} thread(s) (BLAS, numba, n_jobs)"
    if timing.SK_BLAS_THREADS:
        load += f"; scikit-learn's BLAS held to {timing.SK_BLAS_THREADS} thread(s)"
    text = report.markdown(machine + f"; {load}", rates, bw, rows, opt_rows, overhead, args.quick, fixed)
    if args.out:
        out = report.write(args.out, text, rows)
        print(f"wrote {out / 'benchmarks.md'} and {out / 'bench_em.png'}")
    else:
        print(text)
    bad = [r for r in rows if r["dtype"] == "float64" and r["rel_ll"] > 1e-9]
    if bad:
        print(f"WARNING: {len(bad)} float64 case(s) disagree with scikit-learn beyond 1e-9", file=sys.stderr)
        return 1
    return 0
