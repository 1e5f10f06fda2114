"""The command line of ``benchmarks/bench_em.py``: options, then a run or a ``--render``."""

from __future__ import annotations

import argparse

DESCRIPTION = "emix against scikit-learn's GaussianMixture, in the same process."


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=DESCRIPTION)
    ap.add_argument("--quick", action="store_true", help="small cases, under a minute")
    ap.add_argument("--out", default=None, help="folder for benchmarks.md and bench_em.png")
    ap.add_argument("--iters", type=int, default=None, help="iterations per timed fit")
    ap.add_argument("--repeats", type=int, default=None, help="alternating repeats per case")
    ap.add_argument(
        "--sklearn-blas-threads",
        type=int,
        default=None,
        help="hold scikit-learn's BLAS to this many threads (default: its own choice)",
    )
    ap.add_argument(
        "--numba",
        choices=("auto", "off"),
        default="auto",
        help="'off' forces emix's NumPy kernels (default: numba kernels where installed)",
    )
    ap.add_argument(
        "--cases",
        default=None,
        help="comma-separated case indices of the full list, e.g. 0,1 (per-iteration and optimum cases)",
    )
    ap.add_argument(
        "--covs", default=None, help="comma-separated covariance types, e.g. diag,spherical (default: all)"
    )
    ap.add_argument(
        "--iters-large",
        type=int,
        default=None,
        help="iterations per timed fit for the 1M x 8 case (default: --iters)",
    )
    ap.add_argument(
        "--jsonl", default=None, help="append every result row to this JSON-lines file as it is done"
    )
    ap.add_argument(
        "--render",
        default=None,
        help="comma-separated --jsonl files of earlier runs: write the report (and, with --out, the plot) from them",
    )
    ap.add_argument(
        "--only-optimum", action="store_true", help="only the time-to-optimum and overhead sections"
    )
    ap.add_argument(
        "--skip-optimum", action="store_true", help="skip the time-to-optimum and overhead sections"
    )
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time instead of wall-clock (for a loaded machine; see clock.py)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="hold BLAS (both libraries), numba and emix's n_jobs to this many threads",
    )
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.render:
        from .report import render

        return render(args.render.split(","), args.out)
    from .run import run

    return run(args)
