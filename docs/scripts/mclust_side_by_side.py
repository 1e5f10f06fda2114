"""Print the side-by-side tables of docs/models.md: emix.select and mclustBIC on the reference data.

Run from the repository root: ``PYTHONPATH=. python docs/scripts/mclust_side_by_side.py``.
For each data set of ``tests/reference/mclust/``: the three best fits by BIC and
by ICL of both, and over all cells the difference of BIC (emix - mclust) where
both are finite, and the NA cells of each.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mclust_reference import load, mclust_model, names  # noqa: E402

import emix  # noqa: E402


def cell(model: str, k: int) -> str:
    return f"{model},{k}"


def main() -> int:
    summary = [
        "| data | fits | BIC: emix / mclust | ICL: emix / mclust | BIC emix - mclust: min, median, max "
        "| NA in both | NA only in mclust | NA only in emix |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tops = []
    for name in names():
        ref = load(name)
        X = getattr(emix.datasets, f"load_{name}")()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = emix.select(X, n_components=range(1, 10), n_jobs=1)
        diffs, both, only_r, only_e = [], [], [], []
        for r in res.records:
            c = ref.cell(r.model, r.n_components)
            fin = math.isfinite(r.bic)
            if fin and not c.na:
                diffs.append(r.bic - c.bic)
            elif not fin and c.na:
                both.append(cell(r.model, r.n_components))
            elif fin:
                only_r.append(cell(r.model, r.n_components))
            else:
                only_e.append(cell(r.model, r.n_components))
        d = np.array(diffs)
        (eb,), (ei,) = res.top(1, "bic"), res.top(1, "icl")
        summary.append(
            f"| {name} | {len(res.records)} | {cell(eb.model, eb.n_components)} / {cell(*ref.best_bic)} | "
            f"{cell(ei.model, ei.n_components)} / {cell(*ref.best_icl)} | {d.min():+.3f}, {np.median(d):+.3f}, "
            f"{d.max():+.3f} | {' '.join(both) or '-'} | {' '.join(only_r) or '-'} | {' '.join(only_e) or '-'} |"
        )
        rows = ["| rank | emix BIC | mclust BIC | emix ICL | mclust ICL |", "|---|---|---|---|---|"]
        for rank, (b, i, mb, mi) in enumerate(
            zip(res.top(3, "bic"), res.top(3, "icl"), ref.top_bic, ref.top_icl, strict=True), start=1
        ):
            rows.append(
                f"| {rank} | {cell(mclust_model(b.model, ref.d), b.n_components)} {b.bic:.3f} | "
                f"{cell(mb[0], mb[1])} {mb[2]:.3f} | {cell(mclust_model(i.model, ref.d), i.n_components)} "
                f"{i.icl:.3f} | {cell(mi[0], mi[1])} {mi[2]:.3f} |"
            )
        tops.append(f"{name}:\n\n" + "\n".join(rows))
    print("\n".join(summary))
    print()
    print("\n\n".join(tops))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
