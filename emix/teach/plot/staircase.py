"""EM's progress drawn: the E/M staircase of a trace, the gains per iteration, the convergence curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import colour, figure

__all__ = ["plot_trace", "plot_convergence"]


def _pairs(trace: Any) -> list[tuple[Any, Any]]:
    """The (E-step, M-step) records of each iteration, in order."""
    steps = list(trace.steps)
    return [(steps[i], steps[i + 1]) for i in range(0, len(steps) - 1, 2) if steps[i + 1].step == "M"]


def _staircase(ax, trace: Any) -> None:
    """ln p(X | θ_t) at x = t; L climbing diagonally in each M-step and vertically in each E-step."""
    pairs = _pairs(trace)
    t = np.arange(len(pairs) + 1)
    ll = np.array([trace.initial.log_likelihood] + [m.log_likelihood for _, m in pairs])
    ax.plot(t, ll, marker="o", ms=5, color=colour(1), lw=1.4, label="ln p(X | θ)", zorder=4)
    for it, (e, m) in enumerate(pairs, start=1):
        # the M-step: θ moves from θ_{t-1} to θ_t with q fixed; L and Q rise
        ax.plot([it - 1, it], [e.lower_bound, m.lower_bound], color=colour(0), lw=1.6, zorder=3)
        ax.plot(it, m.lower_bound, marker="s", mfc="white", ms=7, color=colour(0), zorder=5)
        ax.plot(
            [it - 1, it],
            [e.expected_complete, m.expected_complete],
            color=colour(2),
            lw=1.0,
            ls="--",
            zorder=2,
        )
        # the E-step of the next iteration: θ fixed, L jumps up to ln p (the KL is closed)
        ax.annotate(
            "",
            xy=(it, m.log_likelihood),
            xytext=(it, m.lower_bound),
            arrowprops=dict(arrowstyle="->", color=colour(0), lw=1.0, shrinkA=0, shrinkB=0),
            zorder=3,
        )
    ax.plot([], [], color=colour(0), marker="s", mfc="white", lw=1.6, label="L(q, θ): M-step ↗, E-step ↑")
    ax.plot([], [], color=colour(2), ls="--", label="Q(θ, θ_old) in each M-step")
    ax.set_xticks(t, ["θ⁰"] + [f"θ{_superscript(i)}" for i in t[1:]])
    ax.set_ylabel("nats")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)


def _superscript(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _gains(ax, trace: Any) -> None:
    """Per iteration, on a log scale: the M-step's rise of L (= that of Q), the KL the next
    E-step closes, and their sum, the rise of ln p."""
    pairs = _pairs(trace)
    rise_l = np.array([m.lower_bound - e.lower_bound for e, m in pairs])
    kl = np.array([m.kl for _, m in pairs])
    rise_ll = np.array([m.log_likelihood - e.log_likelihood for e, m in pairs])
    values = np.concatenate([rise_l, kl, rise_ll])
    positive = values[np.isfinite(values) & (values > 0)]
    floor = max(float(positive.min()) / 10 if positive.size else 1e-16, 1e-300)
    it = np.arange(1, len(pairs) + 1)
    width = 0.27
    for offset, vals, name, c in (
        (-width, rise_l, "M-step: rise of L (= rise of Q)", colour(0)),
        (0.0, kl, "KL the next E-step closes", colour(2)),
        (width, rise_ll, "rise of ln p = the two together", colour(1)),
    ):
        shown = np.where(np.isfinite(vals) & (vals > floor), vals, floor)
        ax.bar(it + offset, shown - floor, width=width, bottom=floor, color=c, label=name)
    ax.set_yscale("log")
    ax.set_xticks(it, [str(i) for i in it])
    ax.set_xlabel("iteration")
    ax.set_ylabel("nats (log scale)")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3, axis="y")


def plot_trace(trace: Any, *, title: str | None = None):
    """The E/M staircase of an :class:`~emix.teach.EMTrace`, and what each iteration gains.

    Top: the log-likelihood ``ln p(X | θ_t)`` (dots) after each iteration and
    the bound ``L(q, θ)`` (squares): each M-step moves ``θ`` with ``q`` fixed
    and raises ``L`` (and ``Q(θ, θ_old)``, dashed, by the same amount); each
    E-step leaves ``θ`` and lifts ``L`` up to ``ln p`` (arrows): the KL gap is
    closed. Bottom, per iteration on a log scale: the M-step's rise of ``L``,
    the KL the next E-step closes, and their sum, the rise of ``ln p``.

    Parameters
    ----------
    trace : EMTrace
        What :func:`emix.teach.trace_em` returned.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from emix.teach import trace_lecture_example
    >>> from emix.teach.plot import plot_trace
    >>> fig = plot_trace(trace_lecture_example(n_iter=3))
    >>> len(fig.axes)  # the staircase and the gains
    2
    """
    fig = figure(6.6, 6.2)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    _staircase(top, trace)
    _gains(bottom, trace)
    top.set_title(
        title or f"{trace.family_name}: the M-step raises the bound, the E-step closes the gap", fontsize=10
    )
    return fig


def plot_convergence(history: Sequence[float], *, title: str | None = None):
    """The log-likelihood at each EM iteration.

    Parameters
    ----------
    history : sequence of float, length n_iter + 1
        An estimator's ``history_``.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import emix
    >>> from emix.teach.plot import plot_convergence
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> fig = plot_convergence(gm.history_)
    >>> len(fig.axes), fig.axes[0].get_xlabel()
    (1, 'iteration')
    """
    h = np.asarray(history, dtype=np.float64)
    fig = figure(6.0, 3.6)
    ax = fig.add_subplot()
    ax.plot(np.arange(h.size), h, marker="o", ms=3, color=colour(0))
    ax.set_xlabel("iteration")
    ax.set_ylabel("ln p(X | θ)")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"EM convergence: {h.size - 1} iterations, final {h[-1]:.4f}")
    return fig
