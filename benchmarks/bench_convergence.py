"""Default convergence on n x 10, K=8 stand-ins (issue 15): emix's defaults against scikit-learn's.

Usage::

    PYTHONPATH=. python benchmarks/bench_convergence.py                  # 1e6 rows
    PYTHONPATH=. python benchmarks/bench_convergence.py --n 200000       # quick
    PYTHONPATH=. python benchmarks/bench_convergence.py --n 200000 --reference-cache refs.jsonl

What is measured, per case (:mod:`convergence_cases`) and covariance type:

* **emix defaults**: ``emix.GaussianMixture(8, covariance_type=cov, random_state=0).fit(X)``
  (``convergence="aitken"``, ``rtol=1e-8``, SQUAREM, ``max_iter=100`` passes): passes,
  ``converged_``, wall time, the final mean log-likelihood ``lower_bound_``.
* **scikit-learn defaults**: ``sklearn.mixture.GaussianMixture(8, covariance_type=cov,
  random_state=0).fit(X)``: iterations, ``converged_``, wall time, ``lower_bound_``. Its start
  is *not* emix's (scikit-learn's own k-means against emix's streaming k-means++ and Lloyd),
  so its fit may be another local optimum; its gap is still measured against emix's
  reference below and may then be negative.
* **reference optimum**: emix from the same start as its default fit, run long:
  ``tol=1e-12, rtol=1e-13, max_iter=--ref-max-iter`` (3000) passes, SQUAREM on; the highest
  entry of its history. "ref conv" says whether even that run met its rule: when it did not,
  the case is a slow ridge (EM still gains there after thousands of passes) and the reference
  is only a lower bound of the optimum.
* **gap** = reference - final mean log-likelihood, nats per sample (``N x gap`` = nats in all).

References take most of the time; ``--reference-cache FILE`` keeps them (JSON lines, keyed by
case, covariance type and ``n``) so that a second run only refits the defaults. Times are
one fit each (wall clock, all cores): the point is passes and gaps, not speed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.mixture import GaussianMixture as SkGM

sys.path.insert(0, str(Path(__file__).resolve().parent))

from convergence_cases import CASES, make_case  # noqa: E402

import emix  # noqa: E402


def _quiet_fit(model, X):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model, time.perf_counter() - t


def reference(name: str, cov: str, X: np.ndarray, max_iter: int, cache: Path | None) -> dict:
    """emix's long run from the default start, read from ``cache`` when it holds it."""
    n = X.shape[0]
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            rec = json.loads(line)
            if (rec["case"], rec["cov"], rec["n"]) == (name, cov, n) and rec.get("acc_passes") is not None:
                return rec
    ref, secs = _quiet_fit(
        emix.GaussianMixture(
            8, covariance_type=cov, random_state=0, tol=1e-12, rtol=1e-13, max_iter=max_iter
        ),
        X,
    )
    rec = {
        "case": name,
        "cov": cov,
        "n": n,
        "acc": float(max(ref.history_)) / n,
        "acc_passes": int(ref.n_iter_),
        "acc_conv": bool(ref.converged_),
        "t": secs,
    }
    if cache is not None:
        with cache.open("a") as f:
            f.write(json.dumps(rec) + "\n")
    return rec


def run_case(name: str, cov: str, n: int, ref_max_iter: int, cache: Path | None) -> dict:
    X = make_case(name, n)
    em, em_t = _quiet_fit(emix.GaussianMixture(8, covariance_type=cov, random_state=0), X)
    sk, sk_t = _quiet_fit(SkGM(8, covariance_type=cov, random_state=0), X)
    nan = float("nan")
    no_ref = {"acc": nan, "acc_passes": -1, "acc_conv": False}
    ref = reference(name, cov, X, ref_max_iter, cache) if ref_max_iter > 0 else no_ref
    hist = np.asarray(em.history_)
    return {
        "case": name,
        "cov": cov,
        "n": n,
        "emix_passes": int(em.n_iter_),
        "emix_converged": bool(em.converged_),
        "emix_time": em_t,
        "emix_ll": float(em.lower_bound_),
        "emix_monotone": bool(np.all(np.diff(hist) >= -1e-9 * np.abs(hist[:-1]))),
        "sk_iters": int(sk.n_iter_),
        "sk_converged": bool(sk.converged_),
        "sk_time": sk_t,
        "sk_ll": float(sk.lower_bound_),
        "ref_ll": float(ref["acc"]),
        "ref_passes": int(ref["acc_passes"]),
        "ref_converged": bool(ref["acc_conv"]),
    }


HEADER = (
    "| case | cov | emix passes | conv | time | emix logL/N | gap | sklearn iters | conv | time "
    "| sklearn logL/N | gap | ref logL/N | ref passes (conv) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(r: dict) -> str:
    return (
        f"| {r['case']} | {r['cov']} | {r['emix_passes']} | {'yes' if r['emix_converged'] else 'NO'} "
        f"| {r['emix_time']:.1f} s | {r['emix_ll']:.9f} | {r['ref_ll'] - r['emix_ll']:.1e} "
        f"| {r['sk_iters']} | {'yes' if r['sk_converged'] else 'NO'} | {r['sk_time']:.1f} s "
        f"| {r['sk_ll']:.9f} | {r['ref_ll'] - r['sk_ll']:.1e} | {r['ref_ll']:.9f} "
        f"| {_ref_passes(r)} |"
    )


def _ref_passes(r: dict) -> str:
    if r["ref_passes"] < 0:
        return "not run"
    return f"{r['ref_passes']} ({'yes' if r['ref_converged'] else 'no: a ridge'})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="rows per case (default 1e6)")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument(
        "--cov", nargs="+", default=["full", "diag"], choices=["full", "tied", "diag", "spherical"]
    )
    ap.add_argument(
        "--ref-max-iter", type=int, default=3000, help="passes of the reference run (0: no reference)"
    )
    ap.add_argument("--reference-cache", type=Path, default=None, help="JSON lines of reference runs")
    ap.add_argument("--jsonl", type=Path, default=None, help="append the rows here")
    args = ap.parse_args(argv)
    print(f"n = {args.n}, K = 8, d = 10; emix {emix.__version__}")
    print(HEADER, flush=True)
    for cov in args.cov:
        for name in args.cases:
            r = run_case(name, cov, args.n, args.ref_max_iter, args.reference_cache)
            print(row(r), flush=True)
            if args.jsonl is not None:
                with args.jsonl.open("a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
