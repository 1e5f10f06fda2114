"""Issue 15: the start of a default fit, against scikit-learn's, in the same run.

Usage::

    PYTHONPATH=. python benchmarks/bench_init.py [--quick] [--reps 5]

For the benchmark's data (``emix_bench.cases.make_data``) and each of the starts
``init_params='kmeans'`` (both libraries' default), ``'k-means++'`` and
``'random_from_data'``: the wall time of ``fit`` with ``max_iter=1`` (the start,
one iteration and the final pass, in both libraries; validation included),
``covariance_type='diag'``, both libraries with their default threads, the mean
over ``random_state`` 0 to ``--reps - 1``, alternating (a start's cost depends on
its seeds: k-means++ that puts two seeds in one blob costs Lloyd many more passes). The start is most of it; the ratio is
scikit-learn's time over emix's. Run it with ``PYTHONPATH`` on another checkout
to compare two versions of emix.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.mixture import GaussianMixture as SkGM

sys.path.insert(0, os.path.dirname(__file__))

from emix_bench.cases import case_name, make_data  # noqa: E402

import emix  # noqa: E402

CASES = ((100_000, 2, 3), (200_000, 16, 8), (100_000, 64, 16))
QUICK = ((20_000, 2, 3), (20_000, 16, 8))
INITS = ("kmeans", "k-means++", "random_from_data")


def _time(cls, X, k, init, seed=0):
    t = time.perf_counter()
    cls(k, covariance_type="diag", max_iter=1, random_state=seed, init_params=init).fit(X)
    return time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases")
    ap.add_argument("--reps", type=int, default=5, help="seeds per library (the mean is kept)")
    ap.add_argument("--rows", type=int, default=None, help="rows of every case (a smoke run)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"emix {emix.__version__} from {os.path.dirname(emix.__file__)}")
    print("| data | init | scikit-learn | emix | ratio |")
    print("|---|---|---|---|---|")
    for n, d, k in QUICK if args.quick else CASES:
        n = args.rows or n
        X, _ = make_data(n, d, k, np.float64)
        for init in INITS:
            _time(emix.GaussianMixture, X[:2000], k, init)  # compile outside the timing
            sk = em = 0.0
            for seed in range(args.reps):
                sk += _time(SkGM, X, k, init, seed) / args.reps
                em += _time(emix.GaussianMixture, X, k, init, seed) / args.reps
            print(
                f"| {case_name(n, d, k)} | {init} | {sk * 1e3:.0f} ms | {em * 1e3:.0f} ms | {sk / em:.1f}x |"
            )


if __name__ == "__main__":
    main()
