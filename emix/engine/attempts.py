"""What :func:`emix.engine.driver.run_em` tries before its Python loop (issue 15).

:func:`compiled_run`: the family's whole EM run in one compiled loop, for data held in one
chunk. :func:`kept_if_converged`: an attempt (small data's plain EM before SQUAREM) that is kept
only if it converges, and otherwise leaves no warnings or recorded repairs behind. The driver
imports both under its own names (``driver._compiled_run``, ``driver._kept_if_converged``), where
the tests replace or call them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from ..families import repairs
from ..families.base import Family
from .convergence import _MAX_RUN
from .passes import degenerate_components, single_chunk
from .results import EMResult, MixtureParams


def compiled_run(
    source, family: Family, params: MixtureParams, max_iter: int, tol: float, rule: str, **rule_kw
):
    """The family's whole EM run in one compiled loop (its optional ``whole_em``), for data held
    in one chunk; ``None`` when it has none, it does not apply, or it handed the run back (a
    step the Python M-step would repair: the Python loop then runs, from the start)."""
    whole = single_chunk(source, family)
    run = getattr(family, "whole_em", None)
    if whole is None or run is None or hasattr(family, "weights_step") or hasattr(family, "log_prior"):
        return None  # hooks (fixed weights, a prior) the compiled loop does not have
    out = run(
        *whole, params.weights, params.components, max_iter=max_iter, tol=tol, rule=rule,
        total_weight=source.total_weight, **rule_kw,
    )  # fmt: skip
    if out is None or "history" not in out:
        return None
    final = MixtureParams(weights=out["weights"], components=out["components"])
    degenerate = out["flagged"] or degenerate_components(family, final, source.total_weight)
    return EMResult(
        params=final,
        history=tuple(out["history"]),
        n_iter=out["passes"],
        converged=out["converged"],
        accelerated=(False,) * len(out["history"]),
        run=(tuple(out["history"][-_MAX_RUN:]), (False,) * min(len(out["history"]), _MAX_RUN)),
        degenerate=degenerate,
        map_log_sum=out.get("map_log_sum"),
    )


def kept_if_converged(run: Callable[[], EMResult]) -> EMResult | None:
    """``run()``'s result if it converged, its warnings then re-issued; else ``None``, with its
    warnings and recorded repairs dropped (a discarded attempt leaves nothing in the fit)."""
    position = repairs.mark()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = run()
    if not out.converged:
        repairs.rewind(position)
        return None
    seen = set()
    for w in caught:  # once each, as the default filter shows a warning once per place
        key = (w.category, str(w.message), w.filename, w.lineno)
        if key not in seen:
            seen.add(key)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return out
