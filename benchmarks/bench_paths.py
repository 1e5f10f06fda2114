"""Issue 15, round 6: the grouped in-memory pass against the chunked one, and scikit-learn, on one thread.

Usage::

    PYTHONPATH=. python benchmarks/bench_paths.py 200000 16 8 diag,spherical,full,tied [f32|f64] [n_jobs]

For each covariance type, three fits from the benchmark's same start (``emix_bench.cases``),
``tol=0``, no acceleration: emix as it is ("new": the pass over fixed row groups, the final pass
without statistics), emix with the chunk-by-chunk pass ("old": ``_grouped`` switched off, so
every pass, the final one included, maps the chunks and computes the statistics), and
scikit-learn. Everything on one thread (BLAS, numba, ``n_jobs=1``; a last argument ``n_jobs``
gives emix that many pool threads, BLAS still on one); each time is the CPU time
of the process (``time.process_time``), the best of 3 alternating repeats, for fits of 0, 1
and 9 iterations: per iteration ``(fit(9) - fit(1)) / 8``, fixed cost ``fit(0)`` (scikit-learn,
which cannot fit 0 iterations: ``fit(1)`` less one iteration). On a loaded machine these are
work ratios, far less affected by the load than wall-clock times.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def main(argv: list[str]) -> None:
    import numba
    from emix_bench.cases import make_data, start_params
    from sklearn.mixture import GaussianMixture as SkGM
    from threadpoolctl import threadpool_limits

    from emix import GaussianMixture
    from emix.engine import passes

    warnings.simplefilter("ignore")
    threadpool_limits(1)
    numba.set_num_threads(1)
    grouped = passes._grouped
    n, d, k = int(argv[0]), int(argv[1]), int(argv[2])
    dt = np.float32 if len(argv) > 4 and argv[4] == "f32" else np.float64
    n_jobs = int(argv[5]) if len(argv) > 5 else 1
    X, centres = make_data(n, d, k, dt)
    for cov in argv[3].split(","):
        init = start_params(X, centres, k, cov)

        def emix(it, new=True, cov=cov, init=init):
            passes._grouped = grouped if new else (lambda *a: None)
            gm = GaussianMixture(
                k, covariance_type=cov, tol=0, max_iter=it, accelerate=False, n_jobs=n_jobs, **init
            )
            t = time.process_time()
            gm.fit(X)
            return time.process_time() - t

        def sklearn(it, cov=cov, init=init):
            gm = SkGM(k, covariance_type=cov, tol=0, max_iter=it, **init)
            t = time.process_time()
            gm.fit(X)
            return time.process_time() - t

        fns = {"new": emix, "old": lambda it: emix(it, False), "sk": sklearn}
        for f in fns.values():
            f(1)  # compile, warm the caches
        times = {name: {0: [], 1: [], 9: []} for name in fns}
        for _ in range(3):
            for name, f in fns.items():
                for it in (1, 9) if name == "sk" else (0, 1, 9):
                    times[name][it].append(f(it))
        passes._grouped = grouped
        best = {name: {it: min(v) if v else np.nan for it, v in t.items()} for name, t in times.items()}
        per = {name: (best[name][9] - best[name][1]) / 8 for name in best}
        fixed = {name: best[name][0] if name != "sk" else best[name][1] - per[name] for name in best}
        ms = {name: f"{best[name][9] * 1e3:.1f}" for name in best}
        print(
            f"{n}x{d} K={k} {cov} {np.dtype(dt).name} n_jobs={n_jobs}: fit(9) ms new {ms['new']} old {ms['old']} sk {ms['sk']}"
            f" | per-iter new {per['new'] * 1e3:.2f} old {per['old'] * 1e3:.2f} sk {per['sk'] * 1e3:.2f}"
            f" | fixed new {fixed['new'] * 1e3:.2f} old {fixed['old'] * 1e3:.2f} sk {fixed['sk'] * 1e3:.2f}"
            f" | fit(9) sk/new {best['sk'][9] / best['new'][9]:.2f} sk/old {best['sk'][9] / best['old'][9]:.2f};"
            f" per-iter sk/new {per['sk'] / per['new']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
