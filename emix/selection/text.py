"""A selection as text and HTML: the criterion grid in blocks that fit the width, the summary, the notebook view."""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any

import numpy as np


def _cell(v: float, digits: int) -> str:
    return "NA" if not np.isfinite(v) else f"{v:.{digits}f}"


def grid(
    values: np.ndarray,
    models: Sequence[str],
    ks: Sequence[int],
    digits: int = 3,
    width: int = 80,
    best: tuple[str, int] | None = None,
) -> str:
    """Rows K, columns models, cut into blocks of columns so that no line is wider than ``width``.

    Parameters
    ----------
    values : ndarray of shape (len(ks), len(models))
    models : sequence of str
    ks : sequence of int
    digits : int, default=3
    width : int, default=80
    best : (model, K), optional
        Marked with ``*``.

    Returns
    -------
    str
    """
    cells = [[_cell(v, digits) for v in row] for row in values]
    if best is not None and best[0] in models and best[1] in ks:
        i, j = list(ks).index(best[1]), list(models).index(best[0])
        cells[i][j] += "*"
    col = max([len(m) for m in models] + [len(c) for row in cells for c in row] + [2]) + 2
    kw = max(len(str(k)) for k in ks) + 1 if ks else 2
    kw = max(kw, 2)
    per_block = max(1, (width - kw) // col)
    blocks = []
    for start in range(0, len(models), per_block):
        idx = range(start, min(start + per_block, len(models)))
        lines = ["K".rjust(kw) + "".join(models[j].rjust(col) for j in idx)]
        for i, k in enumerate(ks):
            lines.append(str(k).rjust(kw) + "".join(cells[i][j].rjust(col) for j in idx))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _na_line(result: Any, limit: int = 8) -> str:
    na = result.na
    if not na:
        return ""
    names = " ".join(f"{r.model},{r.n_components}" for r in na[:limit])
    more = f" +{len(na) - limit}" if len(na) > limit else ""
    return f"NA (degenerate, never chosen): {names}{more}"


def summary(result: Any, n: int = 5) -> str:
    """The best fit, the ``n`` best by the selection's criterion, the NA fits and the warnings, as text."""
    crit = result.criterion
    best = result.best
    lines = [
        f"SelectionResult: {len(result.records)} fits ({len(result.models)} models x "
        f"{len(result.n_components)} K) on {result.n_samples} rows",
        f"best by {crit.upper()}: {best.model}, K={best.n_components} ({crit.upper()} {getattr(best, crit):.3f})",
        f"  {'model':<6} {'K':>3} {crit.upper():>12} {'logLik':>12} {'df':>4}",
    ]
    for r in result.top(n, crit):
        lines.append(
            f"  {r.model:<6} {r.n_components:>3} {getattr(r, crit):>12.3f} {r.log_likelihood:>12.3f} "
            f"{r.n_parameters:>4}"
        )
    na = _na_line(result)
    if na:
        lines.append(na)
    warned = sum(1 for r in result.records if r.warnings)
    if warned:
        lines.append(f"{warned} fits warned: their 'warnings' column in to_frame()")
    return "\n".join(lines)


def html(result: Any) -> str:
    """The notebook view: the summary, then the criterion grid with NA and the best fit marked."""
    crit = result.criterion
    values = result.table(crit)
    best = (result.best_model, result.best_n_components)
    esc = _html.escape
    head = "".join(f"<th>{esc(m)}</th>" for m in result.models)
    rows = []
    for i, k in enumerate(result.n_components):
        cells = []
        for j, m in enumerate(result.models):
            v = values[i, j]
            if not np.isfinite(v):
                cells.append('<td style="color:#999">NA</td>')
            elif (m, k) == best:
                cells.append(f'<td style="font-weight:bold;background:#dde8ff">{v:.3f}</td>')
            else:
                cells.append(f"<td>{v:.3f}</td>")
        rows.append(f"<tr><th>{k}</th>{''.join(cells)}</tr>")
    top = "".join(
        f"<li>{esc(r.model)}, K={r.n_components}: {getattr(r, crit):.3f}</li>" for r in result.top(5, crit)
    )
    na = _na_line(result)
    na_html = f"<p>{esc(na)}</p>" if na else ""
    return (
        f"<div><p><b>{crit.upper()}</b> (mclust's sign, larger is better): best "
        f"<b>{esc(best[0])}, K={best[1]}</b></p><ol>{top}</ol>{na_html}"
        f'<table style="font-family:monospace;text-align:right"><tr><th>K</th>{head}</tr>'
        f"{''.join(rows)}</table></div>"
    )
