"""The lecture's picture of the bound: L(q, θ) below ln p(X | θ), touching it where q is the posterior."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import colour, figure

__all__ = ["plot_bound_slice"]


def plot_bound_slice(trace: Any, iteration: int = 1, *, t: Any = None, title: str | None = None):
    """ln p(X | θ) and L(q, θ) along the line through one M-step, q fixed by the E-step before it.

    The bound touches the log-likelihood at ``θ_old`` (``t = 0``: the E-step
    made ``q`` the posterior there) and peaks at ``θ_new`` (``t = 1``: the
    M-step); the shaded gap is ``KL(q ‖ p(z | X, θ))``, which is zero at
    ``t = 0`` and which the next E-step closes at ``t = 1``.

    Parameters
    ----------
    trace : EMTrace
    iteration : int, default=1
    t : array-like, optional
        Positions on the line (default: [-0.5, 1.5]).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from emix.teach import trace_lecture_example
    >>> from emix.teach.plot import plot_bound_slice
    >>> fig = plot_bound_slice(trace_lecture_example(), iteration=1)
    >>> len(fig.axes)
    1
    """
    from ..bound import bound_slice

    s = bound_slice(trace, iteration, t)
    fig = figure(6.4, 4.4)
    ax = fig.add_subplot()
    ok = np.isfinite(s.log_likelihood) & np.isfinite(s.lower_bound)
    ax.fill_between(s.t, s.lower_bound, s.log_likelihood, where=ok, color=colour(2), alpha=0.18, lw=0)
    ax.plot(s.t, s.log_likelihood, color=colour(1), lw=2.0, label="ln p(X | θ)")
    ax.plot(s.t, s.lower_bound, color=colour(0), lw=2.0, label="L(q, θ), q = p(z | X, θ_old)")
    for at, name in ((0.0, "θ_old"), (1.0, "θ_new")):
        ax.axvline(at, color="0.4", lw=0.8, ls=":")
        ax.text(at, 0.02, f" {name}", transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=9)
    best = int(np.nanargmax(np.where(ok, s.lower_bound, -np.inf)))
    ax.plot(s.t[best], s.lower_bound[best], marker="o", color=colour(0))
    ax.plot([], [], color=colour(2), alpha=0.4, lw=6, label="the gap: KL(q ‖ p(z | X, θ))")
    near = ok & (s.t >= -0.25) & (s.t <= 1.25)  # the y range of the part around the two points
    if near.any():
        lo = float(np.min(s.lower_bound[near]))
        hi = float(np.max(s.log_likelihood[near]))
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.08 * (hi - lo))
    ax.set_xlabel("t, along θ(t) = (1 − t) θ_old + t θ_new")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    ax.set_title(
        title or f"iteration {iteration}: the bound touches ln p at θ_old, peaks at θ_new", fontsize=10
    )
    return fig
