"""Compare ``emix.select`` with mclust's ``mclustBIC(X, G = 1:9)`` on the reference data sets.

Run from the repository root::

    python docs/scripts/compare_mclust.py                 # every data set of the kit
    python docs/scripts/compare_mclust.py iris diabetes   # some of them
    python docs/scripts/compare_mclust.py --list          # also list every cell that differs

For each data set of ``tests/reference/mclust/`` (bundled in
``emix.datasets``) it fits the 14 models for K = 1..9 with ``emix.select``'s
defaults and prints, against mclust 6.0.0's grid:

* cells where emix's BIC is below mclust's by more than ``--tol`` (0.01):
  a worse local optimum (count and the worst);
* cells where emix's BIC is above mclust's by more than ``--tol``;
* cells NA in mclust but finite in emix, and finite in mclust but NA in emix;
* the model chosen by BIC and by ICL, by emix and by mclust, and the size of
  the smallest MAP class of emix's chosen fit (1 flags a one-row component);
* emix's wall time against mclust's recorded one (``timings.csv``).

BIC is in mclust's sign (larger is better) on both sides. For 1-D data
(galaxies) mclust fits only ``E`` and ``V``; each of emix's 14 models is
compared with the one of the same volume (``EII``...``EVV`` with ``E``,
``VII``...``VVV`` with ``V``), which it equals in 1-D.

Timing: ``emix.select`` runs with its default ``n_jobs`` (``--n-jobs`` sets
it), after one small warm-up grid of every model so that loading the compiled
kernels is not counted; mclust's time is the one recorded in
``timings.csv`` (``benchmarks/bench_select.py`` times both in one run).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# this checkout's emix and the kit's reader, whatever emix is installed
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mclust_reference import load, mclust_model, names  # noqa: E402

import emix  # noqa: E402
from emix.selection import SelectionWarning  # noqa: E402

SHOW_WARNINGS = False

LOADERS = {
    "faithful": emix.datasets.load_faithful,
    "iris": emix.datasets.load_iris,
    "diabetes": emix.datasets.load_diabetes,
    "galaxies": emix.datasets.load_galaxies,
    "banknote": emix.datasets.load_banknote,
    "wreath": emix.datasets.load_wreath,
}


def _cell(model: str, k: int) -> str:
    return f"{model},{k}"


def _chosen(res, criterion: str, d: int) -> str:
    (best,) = res.top(1, criterion)
    name = _cell(best.model, best.n_components)
    m = mclust_model(best.model, d)
    return name if m == best.model else f"{name} (= {_cell(m, best.n_components)})"


def compare(name: str, tol: float, n_jobs: int | None, list_cells: bool) -> dict:
    ref = load(name)
    X = LOADERS[name]()
    if not np.array_equal(X, ref.X):
        raise SystemExit(f"{name}: emix.datasets and the reference kit hold different rows")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        if not SHOW_WARNINGS:  # select's one summary of the NA cells and of what the fits warned
            warnings.simplefilter("ignore", SelectionWarning)
        res = emix.select(X, n_components=range(1, 10), n_jobs=n_jobs)
    wall = time.perf_counter() - t0

    worse, better, na_mclust_only, na_emix_only = [], [], [], []
    for r in res.records:
        c = ref.cell(r.model, r.n_components)
        e_ok, m_ok = math.isfinite(r.bic), not c.na
        if e_ok and m_ok:
            diff = r.bic - c.bic
            if diff < -tol:
                worse.append((diff, r, c))
            elif diff > tol:
                better.append((diff, r, c))
        elif e_ok and not m_ok:
            na_mclust_only.append((r, c))
        elif m_ok and not e_ok:
            na_emix_only.append((r, c))

    n_cells = len(res.records)
    one_d = " (1-D: emix's 14 models against mclust's E and V)" if ref.d == 1 else ""
    print(f"== {name}: n={ref.n}, d={ref.d}, {n_cells} emix cells{one_d}")
    if worse:
        diff, r, c = min(worse, key=lambda t: t[0])
        print(
            f"  BIC below mclust's by > {tol}: {len(worse)} cells; worst {_cell(r.model, r.n_components)}: "
            f"emix {r.bic:.3f}, mclust {c.bic:.3f} ({diff:+.3f})"
        )
    else:
        print(f"  BIC below mclust's by > {tol}: 0 cells")
    if better:
        diff, r, c = max(better, key=lambda t: t[0])
        print(
            f"  BIC above mclust's by > {tol}: {len(better)} cells; largest {_cell(r.model, r.n_components)}: "
            f"emix {r.bic:.3f}, mclust {c.bic:.3f} ({diff:+.3f})"
        )
    else:
        print(f"  BIC above mclust's by > {tol}: 0 cells")
    print(
        f"  NA in mclust, finite in emix: {len(na_mclust_only)}"
        + (
            ": " + " ".join(_cell(r.model, r.n_components) for r, _ in na_mclust_only)
            if na_mclust_only
            else ""
        )
    )
    print(
        f"  finite in mclust, NA in emix: {len(na_emix_only)}"
        + (": " + " ".join(_cell(r.model, r.n_components) for r, _ in na_emix_only) if na_emix_only else "")
    )
    em_bic, em_icl = _chosen(res, "bic", ref.d), _chosen(res, "icl", ref.d)
    mc_bic, mc_icl = _cell(*ref.best_bic), _cell(*ref.best_icl)
    res_best = res.top(1, "bic")[0]
    same_bic = (mclust_model(res_best.model, ref.d), res_best.n_components) == ref.best_bic
    sizes = np.bincount(res.best_estimator.predict(X), minlength=res_best.n_components)
    print(
        f"  chosen by BIC: emix {em_bic}, mclust {mc_bic}"
        + ("" if same_bic else "  <-- differ")
        + f"; emix's fit: smallest MAP class {sizes.min()} rows"
    )
    res_icl = res.top(1, "icl")[0]
    same_icl = (mclust_model(res_icl.model, ref.d), res_icl.n_components) == ref.best_icl
    print(f"  chosen by ICL: emix {em_icl}, mclust {mc_icl}" + ("" if same_icl else "  <-- differ"))
    r_time = float(ref.timing["elapsed_median_s"])
    print(f"  wall time: emix {wall:.2f} s, mclust {r_time:.2f} s (x{wall / r_time:.1f})")
    if list_cells:
        for label, rows in (("below", worse), ("above", better)):
            for diff, r, c in sorted(rows, key=lambda t: t[0]):
                print(
                    f"    {label} {_cell(r.model, r.n_components):>7}: emix {r.bic:12.3f}  "
                    f"mclust {c.bic:12.3f}  {diff:+9.3f}"
                )
        for r, c in na_mclust_only:
            print(
                f"    NA in mclust {_cell(r.model, r.n_components):>7}: emix {r.bic:12.3f} "
                f"(mclust rc {c.rc}; emix loglik {r.log_likelihood:.3f})"
            )
        for r, c in na_emix_only:
            print(
                f"    NA in emix   {_cell(r.model, r.n_components):>7}: mclust {c.bic:12.3f} "
                f"(emix: {r.message or 'failed'})"
            )
    return {
        "dataset": name,
        "cells": n_cells,
        "worse": len(worse),
        "better": len(better),
        "na_mclust_only": len(na_mclust_only),
        "na_emix_only": len(na_emix_only),
        "bic": (em_bic, mc_bic, same_bic),
        "icl": (em_icl, mc_icl, same_icl),
        "wall": wall,
        "r_time": r_time,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", help=f"data sets (default: all of {', '.join(names())})")
    parser.add_argument("--tol", type=float, default=0.01, help="BIC difference that counts (default 0.01)")
    parser.add_argument("--n-jobs", type=int, default=None, help="emix.select's n_jobs (default: every core)")
    parser.add_argument("--list", action="store_true", help="list every cell that differs")
    parser.add_argument("--show-warnings", action="store_true", help="show select's summary warning")
    args = parser.parse_args(argv)
    global SHOW_WARNINGS
    SHOW_WARNINGS = args.show_warnings
    chosen = args.datasets or list(names())
    unknown = sorted(set(chosen) - set(names()))
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {list(names())}")

    print(
        f"emix {emix.__version__} ({Path(emix.__file__).parent}), {os.cpu_count()} cores, n_jobs={args.n_jobs}; mclust "
        f"{load(chosen[0]).timing['mclust_version']} (R {load(chosen[0]).timing['r_version']})"
    )
    # warm-up: load every compiled kernel once, outside the timings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emix.select(emix.datasets.load_faithful()[::3], n_components=range(1, 4), n_jobs=args.n_jobs)
        emix.select(emix.datasets.load_galaxies(), n_components=range(1, 4), n_jobs=args.n_jobs)

    rows = [compare(name, args.tol, args.n_jobs, args.list) for name in chosen]

    print("\nsummary (BIC in mclust's sign; 'below' = emix's BIC lower than mclust's by more than tol)")
    head = f"{'dataset':<9} {'cells':>5} {'below':>5} {'above':>5} {'NA-R':>5} {'NA-emix':>7}  "
    head += f"{'BIC emix / mclust':<30} {'ICL emix / mclust':<30} {'emix s':>7} {'R s':>6}"
    print(head)
    for r in rows:
        bic = f"{r['bic'][0]} / {r['bic'][1]}" + ("" if r["bic"][2] else " *")
        icl = f"{r['icl'][0]} / {r['icl'][1]}" + ("" if r["icl"][2] else " *")
        print(
            f"{r['dataset']:<9} {r['cells']:>5} {r['worse']:>5} {r['better']:>5} {r['na_mclust_only']:>5} "
            f"{r['na_emix_only']:>7}  {bic:<30} {icl:<30} {r['wall']:>7.2f} {r['r_time']:>6.2f}"
        )
    print("(* the chosen models differ; NA-R: NA in mclust, finite in emix; NA-emix: the reverse)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
