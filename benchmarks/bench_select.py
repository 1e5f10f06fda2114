"""emix.select against R's mclustBIC on the reference data sets, in one run, as ratios.

Run from the repository root (needs R with mclust on the PATH as ``Rscript``)::

    PYTHONPATH=. python benchmarks/bench_select.py                  # every data set, 5 repeats
    PYTHONPATH=. python benchmarks/bench_select.py iris --repeats 9
    PYTHONPATH=. python benchmarks/bench_select.py --write          # also update docs/benchmarks.md

For each data set of ``tests/reference/mclust/`` (bundled in ``emix.datasets``)
it times, alternating, R's ``mclustBIC(X, G = 1:9)`` (mclust's models for the
data: 14, or ``E`` and ``V`` for 1-D data; timed inside one R process, after
one untimed call) and ``emix.select(X)`` (the same models and K, mclust's
start and stopping rule) with ``n_jobs=1`` and with the default ``n_jobs``;
emix's cache of hierarchical trees is cleared before each run, so that each
run builds its tree, as each ``mclustBIC`` call does.
Each repeat times one R run and one run of each emix setting, so that a
change of the machine's load touches all of them alike. The medians of the
wall times are reported, with ``ratio = mclust / emix`` (above 1: emix is
faster). Before timing, emix fits one full grid on a small data set so that
the numba kernels are loaded (a first call of a cached kernel costs a read
from disk), and R loads mclust and fits one grid.

The report (``--write``) replaces the block between ``<!-- bench_select -->``
and ``<!-- /bench_select -->`` of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import emix  # noqa: E402

NAMES = ("faithful", "iris", "diabetes", "galaxies", "banknote", "wreath")
KIT = ROOT / "tests" / "reference" / "mclust"
START, END = "<!-- bench_select -->", "<!-- /bench_select -->"

R_SCRIPT = r"""
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1])
X <- as.matrix(df[, sapply(df, is.numeric), drop = FALSE])
x <- if (ncol(X) == 1) drop(X) else X
invisible(mclustBIC(x, G = 1:9, verbose = FALSE))
t <- system.time(mclustBIC(x, G = 1:9, verbose = FALSE))[["elapsed"]]
cat(sprintf("%.6f\n", t))
"""


def r_version() -> str:
    out = subprocess.run(
        ["Rscript", "-e", 'cat(R.version$major, R.version$minor, as.character(packageVersion("mclust")))'],
        capture_output=True,
        text=True,
        check=True,
    )
    major, minor, mclust = out.stdout.split()
    return f"R {major}.{minor}, mclust {mclust}"


def time_r(script: Path, name: str) -> float:
    """One timed ``mclustBIC`` on the data set (after one untimed one, in the same R process)."""
    out = subprocess.run(
        ["Rscript", "--vanilla", str(script), str(KIT / f"{name}.csv")],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def time_emix(X, n_jobs) -> tuple[float, object]:
    emix.init.clear_cache()  # build the tree again, as mclustBIC does at every call
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = emix.select(X, n_components=range(1, 10), n_jobs=n_jobs)
    return time.perf_counter() - t0, res


def warm_up() -> None:
    """Load every kernel once: one full grid of every model on a small data set."""
    X = emix.datasets.load_faithful()[::3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emix.select(X, n_components=range(1, 4), n_jobs=1)
        emix.select(emix.datasets.load_galaxies(), n_components=range(1, 4), n_jobs=1)


def run(names, repeats: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "time_mclust.R"
        script.write_text(R_SCRIPT)
        warm_up()
        for name in names:
            X = getattr(emix.datasets, f"load_{name}")()
            r_t, one, auto = [], [], []
            for _ in range(repeats):
                r_t.append(time_r(script, name))
                t, res = time_emix(X, 1)
                one.append(t)
                auto.append(time_emix(X, None)[0])
            row = {
                "name": name,
                "n": X.shape[0],
                "d": X.shape[1],
                "cells": len(res.records),
                "r": statistics.median(r_t),
                "one": statistics.median(one),
                "auto": statistics.median(auto),
                "best": f"{res.best_model},{res.best_n_components}",
            }
            rows.append(row)
            print(
                f"{name:<9} R {row['r']:.3f} s | emix n_jobs=1 {row['one']:.3f} s (x{row['r'] / row['one']:.2f}) | "
                f"default {row['auto']:.3f} s (x{row['r'] / row['auto']:.2f}) | best {row['best']}",
                flush=True,
            )
    return rows


def cpu_name() -> str:
    """The processor's name (``/proc/cpuinfo`` on Linux), else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(rows, repeats: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        START,
        "## Model selection against mclust (`benchmarks/bench_select.py`)",
        "",
        "The whole grid, K = 1..9 and mclust's models (14; `E` and `V` for 1-D data), from",
        "mclust's start with mclust's stopping rule: R's `mclustBIC(X, G = 1:9)` against",
        "`emix.select(X)` on the data sets of the mclust reference kit, timed alternately in one",
        f"run (median of {repeats} repeats; `ratio` = mclust's time / emix's: above 1, emix is faster).",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, emix {emix.__version__} with numba kernels; {r_version()} "
        f"(Debian's reference BLAS). Load average at the end: {load:.1f}.",
        "",
        "| data | n x d | fits | mclustBIC | emix, n_jobs=1 | ratio | emix, default n_jobs | ratio | best |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['n']} x {r['d']} | {r['cells']} | {r['r']:.3f} s | {r['one']:.3f} s | "
            f"**{r['r'] / r['one']:.2f}** | {r['auto']:.3f} s | **{r['r'] / r['auto']:.2f}** | {r['best']} |"
        )
    lines += [
        "",
        "Command: `PYTHONPATH=. python benchmarks/bench_select.py --write`.",
        END,
    ]
    return "\n".join(lines)


def write(text: str, path: Path) -> None:
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        tail = rest.split(END, 1)[1]
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", help=f"data sets (default: {', '.join(NAMES)})")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    names = args.datasets or list(NAMES)
    rows = run(names, args.repeats)
    text = report(rows, args.repeats)
    print()
    print(text)
    if args.write:
        write(text, ROOT / "docs" / "benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
