"""``diagnostics_``: what went wrong, or nearly, in a fit, kept as a value.

Every ``fit`` ends by setting ``diagnostics_``, a :class:`Diagnostics`: the
repairs the kept restart's M-steps made (and so the iterations whose M-step
was not an exact maximisation), the degenerate components, the groups of
duplicate components, the restarts that failed, whether EM converged, and
notes. The findings are also warned (each warning type is in
:mod:`emix.exceptions`); with ``strict=True`` ``fit`` raises
:class:`~emix.exceptions.DiagnosticsError` instead.

Duplicates are found as densities, which needs nothing but the family's
``sample`` and ``log_prob``: rows drawn from each fitted component are scored
under every component, and two components are alike when their log-densities
agree on every drawn row to ``1e-6`` nats (the log of a likelihood ratio, so
the test does not depend on the data's units or offset). A family with
``probe_rows`` (one row per component, e.g. a Gaussian's means) is asked first:
components whose log-densities differ by more than :data:`SURELY_APART_NATS`
at one of those rows have different densities, and only the pairs left (if
any) are sampled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..exceptions import (
    DegenerateComponentWarning,
    DiagnosticsError,
    DuplicateComponentWarning,
    FailedStartWarning,
    RegularizationWarning,
)
from ..families.repairs import Repair
from .degeneracy import describe

#: rows drawn from each component to compare the components' densities
DRAWS_PER_COMPONENT = 24
#: two log-densities (nats) this close, plus rounding relative to their size, are the same
LOG_DENSITY_ATOL = 1e-6
#: two components whose log-densities differ by more than this at a probe row are told apart
#: without sampling (1000x the tolerance: no sampled test could find them alike)
SURELY_APART_NATS = 1e-3
#: the warnings ``strict=True`` turns into :class:`DiagnosticsError`
STRICT_WARNINGS = (
    DegenerateComponentWarning,
    DuplicateComponentWarning,
    FailedStartWarning,
    RegularizationWarning,
)


@dataclasses.dataclass(frozen=True)
class FailedStart:
    """A restart that raised an error and was skipped.

    Attributes
    ----------
    index : int
        The restart, ``0`` to ``n_init - 1``.
    reason : str
        The error's type and message.

    Examples
    --------
    >>> from emix.estimators.diagnostics import FailedStart
    >>> str(FailedStart(2, "NumericalError: the log-likelihood is not finite"))
    'restart 2: NumericalError: the log-likelihood is not finite'
    """

    index: int
    reason: str

    def __str__(self) -> str:
        return f"restart {self.index}: {self.reason}"


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """What a fit found: repairs, degenerate and duplicate components, failed starts, notes.

    Every emix estimator sets ``diagnostics_`` at the end of ``fit``; model
    files keep it. ``str()`` gives a readable summary; :attr:`issues` lists
    the findings that ``strict=True`` turns into an error.

    Attributes
    ----------
    converged : bool
        Whether the kept fit met its stopping rule (``converged_``).
    repairs : tuple of Repair
        The repairs of the kept restart's M-steps (component, iteration, what
        was done; see :class:`emix.families.repairs.Repair`), at most 1000.
    inexact_m_steps : tuple of int
        The iterations whose M-step was repaired, so not an exact
        maximisation: the log-likelihood may drop after them without a bug.
    degenerate : tuple of int
        Components degenerate at the end (``degenerate_``).
    duplicates : tuple of tuple of int
        Groups of components with the same density (to ``1e-6`` nats on rows
        drawn from them): the mixture has fewer distinct components.
    failed_starts : tuple of FailedStart
        Restarts that raised and were skipped.
    regularised_features : tuple of int
        Features that vary but whose range is below ``2 sqrt(reg_covar)``
        (families with ``reg_covar``): no variance they can have reaches
        ``reg_covar``, which swamps them.
    notes : tuple of str
        Other remarks (e.g. a model file of an earlier emix, without diagnostics).

    Examples
    --------
    >>> import emix
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> gm.diagnostics_.issues
    ()
    >>> print(gm.diagnostics_)
    converged; no repairs, no degenerate or duplicate components, no failed starts
    """

    converged: bool = True
    repairs: tuple[Repair, ...] = ()
    inexact_m_steps: tuple[int, ...] = ()
    degenerate: tuple[int, ...] = ()
    duplicates: tuple[tuple[int, ...], ...] = ()
    failed_starts: tuple[FailedStart, ...] = ()
    regularised_features: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def issues(self) -> tuple[str, ...]:
        """One line per finding that a warning reported (and ``strict=True`` refuses), with its fix."""
        out = [f"repair: {r}" for r in self.repairs]
        if self.degenerate:
            out.append(
                f"degenerate component(s) {_join(self.degenerate)}: set reg_covar > 0, use fewer "
                "components or another covariance model"
            )
        for group in self.duplicates:
            out.append(
                f"components {_join(group)} are alike: use {len(group) - 1} fewer component(s) "
                "or more restarts (n_init)"
            )
        out.extend(f"failed start: {f}" for f in self.failed_starts)
        if self.regularised_features:
            out.append(
                f"reg_covar swamps feature(s) {_join(self.regularised_features)}: scale the "
                "features or lower reg_covar"
            )
        return tuple(out)

    def summary(self) -> str:
        """A few lines: convergence, then each finding, then the notes."""
        head = "converged" if self.converged else "did not converge (max_iter reached)"
        issues = self.issues
        if not issues and not self.notes:
            return f"{head}; no repairs, no degenerate or duplicate components, no failed starts"
        lines = [head]
        if self.inexact_m_steps:
            lines.append(f"inexact M-steps (repaired) at iteration(s) {_join(self.inexact_m_steps)}")
        lines.extend(issues)
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_json(self) -> dict:
        """A plain-JSON form, as model files store it."""
        return {
            "converged": bool(self.converged),
            "repairs": [r.to_json() for r in self.repairs],
            "inexact_m_steps": list(self.inexact_m_steps),
            "degenerate": list(self.degenerate),
            "duplicates": [list(g) for g in self.duplicates],
            "failed_starts": [[f.index, f.reason] for f in self.failed_starts],
            "regularised_features": list(self.regularised_features),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict) -> Diagnostics:
        """The diagnostics :meth:`to_json` wrote; raises ``KeyError``, ``TypeError`` or
        ``ValueError`` on anything else."""
        ints = lambda values: tuple(int(v) for v in values)  # noqa: E731
        return cls(
            converged=bool(data["converged"]),
            repairs=tuple(Repair.from_json(r) for r in data["repairs"]),
            inexact_m_steps=ints(data["inexact_m_steps"]),
            degenerate=ints(data["degenerate"]),
            duplicates=tuple(ints(g) for g in data["duplicates"]),
            failed_starts=tuple(FailedStart(int(i), str(r)) for i, r in data["failed_starts"]),
            regularised_features=ints(data["regularised_features"]),
            notes=tuple(str(n) for n in data["notes"]),
        )


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values)


# -- while fitting ----------------------------------------------------------------------------------
@contextlib.contextmanager
def strict_mode(strict: bool) -> Iterator[None]:
    """Silence the warnings that ``strict=True`` turns into an error (a no-op otherwise)."""
    if not strict:
        yield
        return
    with warnings.catch_warnings():
        for category in STRICT_WARNINGS:
            warnings.simplefilter("ignore", category)
        yield


def failed_start(index: int, exc: BaseException, n_init: int) -> FailedStart:
    """Record and warn that restart ``index`` raised ``exc`` (the fit goes on with the others)."""
    failure = FailedStart(index, f"{type(exc).__name__}: {exc}")
    warnings.warn(
        f"restart {index} of n_init={n_init} failed and was skipped ({failure.reason}); the best of "
        "the other restarts is kept",
        FailedStartWarning,
        stacklevel=4,
    )
    return failure


# -- after fitting ----------------------------------------------------------------------------------
def duplicate_components(
    family: Any, params: Any, total_weight: float = np.inf, seed: int = 0
) -> tuple[tuple[int, ...], ...]:
    """Groups of components of ``params`` (a MixtureParams) with the same density.

    For a family that ``keeps_unused_components`` (variational Bayes, whose unused components
    all stay at the prior), components holding less than one row's weight
    (``weight * total_weight < 1``) are not compared.

    Rows are drawn from every component (``family.sample``) and scored under
    every component (``family.log_prob``); components ``j`` and ``k`` are
    alike when their log-densities agree on all the rows, to
    :data:`LOG_DENSITY_ATOL` nats plus rounding. A family that cannot sample
    has no duplicates found.
    """
    k = len(params.weights)
    if k < 2:
        return ()
    floor = 1.0 if getattr(family, "keeps_unused_components", False) else -np.inf
    used = np.asarray(params.weights, dtype=np.float64) * float(total_weight) >= floor
    pairs = [(j, i) for j in range(k) for i in range(j + 1, k) if used[i] and used[j]]
    apart = _apart_at_probe_rows(family, params.components, k)
    if apart is not None:
        pairs = [(j, i) for j, i in pairs if not apart[j, i]]
    if not pairs:
        return ()
    try:
        rows = family.sample(np.random.default_rng(seed), params.components, np.full(k, DRAWS_PER_COMPONENT))
        with np.errstate(all="ignore"):
            lp = np.asarray(family.log_prob(np.asarray(rows), params.components), dtype=np.float64)
    except (NotImplementedError, AttributeError):
        return ()
    parent = list(range(k))

    def root(j: int) -> int:
        while parent[j] != j:
            j = parent[j]
        return j

    for j, i in pairs:
        a, b = lp[:, j], lp[:, i]
        finite = np.isfinite(a) & np.isfinite(b)
        size = np.where(finite, np.maximum(np.abs(a), np.abs(b)), 0.0)  # rounding grows with it
        with np.errstate(invalid="ignore"):
            close = finite & (np.abs(a - b) <= LOG_DENSITY_ATOL + 1e-9 * size)
        both_inf = np.isneginf(a) & np.isneginf(b)  # a row neither can give
        if np.all(close | both_inf):
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for j in range(k):
        groups.setdefault(root(j), []).append(j)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def _apart_at_probe_rows(family: Any, components: Any, k: int) -> np.ndarray | None:
    """(K, K) bool: True where two components' log-densities differ by more than
    :data:`SURELY_APART_NATS` (plus rounding) at one of the family's ``probe_rows``; ``None``
    for a family without them. A difference seen at one row proves the densities differ, so
    True is never wrong; False only means "not told apart here"."""
    probe = getattr(family, "probe_rows", None)
    if probe is None:
        return None
    try:
        rows = np.asarray(probe(components))
        with np.errstate(all="ignore"):
            lp = np.asarray(family.log_prob(rows, components), dtype=np.float64)
    except (NotImplementedError, AttributeError):
        return None
    if lp.shape != (k, k):
        return None
    eps = np.finfo(rows.dtype if rows.dtype.kind == "f" else np.float64).eps
    own = np.diagonal(lp)[:, None]  # own[j] = log p_j(row j)
    with np.errstate(invalid="ignore"):
        # at row j (component j's probe row): |log p_j - log p_i|, plus rounding of either; a
        # row one component gives and the other cannot (-inf) tells them apart, NaN does not
        size = np.where(np.isfinite(own) & np.isfinite(lp), np.maximum(np.abs(own), np.abs(lp)), 0.0)
        apart = np.abs(own - lp) > SURELY_APART_NATS + 64 * eps * size
    return apart | apart.T


def objective_drops(
    history: Any, total_weight: float, exact: bool, dtype: Any = np.float64
) -> tuple[str, ...]:
    """A note naming the iterations where the objective decreased by more than rounding, if any.

    Exact EM never lowers the objective; an inexact M-step can (``reg_covar > 0`` adds jitter
    after the maximiser, ``alpha > 0`` smooths with pseudo-counts, a Student-t dof step is
    conditional), and a fit says so instead of hiding it.

    Parameters
    ----------
    history : sequence of float, shape (n_entries,)
        The kept run's objective per iteration (``history_``).
    total_weight : float
        Rows (sum of the sample weights): the allowance for rounding is
        ``16 eps (|h| + total_weight)``.
    exact : bool
        The family's ``exact_m_step``, named in the note.
    dtype : dtype, default=float64
        The data's: ``eps`` is its machine epsilon (float32 data's densities are known to
        fewer digits), float64's for data that are not floating point.

    Returns
    -------
    tuple of str
        Empty, or one note.
    """
    h = np.asarray(history, dtype=np.float64)
    if h.size < 2:
        return ()
    fall = h[:-1] - h[1:]
    eps = np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64).eps
    where = np.flatnonzero(fall > 16 * eps * (np.abs(h[:-1]) + total_weight))
    if where.size == 0:
        return ()
    why = (
        "the M-step does not maximise the likelihood exactly here (reg_covar > 0 adds jitter, "
        "alpha > 0 pseudo-counts, or a conditional step); reg_covar=0 / alpha=0 give a monotone run"
        if not exact
        else "unexpected for an exact M-step (please report it with the data)"
    )
    return (
        f"the objective dropped by up to {float(fall[where].max()):.3g} at iteration(s) "
        f"{_join(tuple(int(i) + 1 for i in where[:6]))}: {why}",
    )


def record(
    estimator: Any,
    best: Any,
    log: list[Repair],
    kept: int,
    failed: list[FailedStart],
    total_weight: float,
    rows: np.ndarray,
) -> None:
    """Set ``estimator.diagnostics_`` after a fit, warn its new findings, and raise when ``strict``.

    Parameters
    ----------
    estimator : MixtureEstimator
        Just fitted (``degenerate_`` set).
    best : EMResult
        The kept run.
    log : list of Repair
        The repairs recorded during the fit (every restart's).
    kept : int
        The kept restart.
    failed : list of FailedStart
    total_weight : float
        Rows (sum of the sample weights) of the training data.
    rows : ndarray of shape (n, n_features)
        The training array, or rows holding a source's column maxima and minima (see
        :func:`swamped_features`).
    """
    family = estimator._make_family()
    repairs = tuple(r for r in log if r.restart == kept)
    duplicates = duplicate_components(family, best.params, total_weight)
    swamped = swamped_features(getattr(family, "reg_covar", None), rows)
    diag = Diagnostics(
        converged=bool(best.converged),
        repairs=repairs,
        inexact_m_steps=tuple(sorted({r.iteration for r in repairs if r.iteration > 0})),
        degenerate=tuple(int(k) for k in getattr(estimator, "degenerate_", ())),
        duplicates=duplicates,
        failed_starts=tuple(failed),
        regularised_features=swamped,
        notes=objective_drops(
            best.history, total_weight, getattr(family, "exact_m_step", True), np.asarray(rows).dtype
        ),
    )
    estimator.diagnostics_ = diag
    name = describe(estimator)
    for group in duplicates:
        warnings.warn(
            f"{name}: components {_join(group)} are alike (the same density to {LOG_DENSITY_ATOL:g} nats): "
            f"the mixture has fewer distinct components. Use {len(group) - 1} fewer component(s), or "
            "more restarts (n_init)",
            DuplicateComponentWarning,
            stacklevel=3,
        )
    if swamped:
        reg = getattr(family, "reg_covar", None)
        warnings.warn(
            f"{name}: {swamped_note(reg, swamped)}",
            RegularizationWarning,
            stacklevel=3,
        )
    if getattr(estimator, "strict", False) and diag.issues:
        raise DiagnosticsError(
            f"{name} with strict=True: the fit found {len(diag.issues)} problem(s): "
            + "; ".join(diag.issues[:10])
            + ("; ..." if len(diag.issues) > 10 else "")
            + " (the fitted attributes and diagnostics_ are set; strict=False warns instead)",
            diag,
        )


def swamped_features(reg_covar: Any, rows: np.ndarray) -> tuple[int, ...]:
    """Features that vary, but whose largest possible variance, ``(range / 2) ** 2``, is below
    ``reg_covar`` (for a family that adds ``reg_covar`` to its variances; else none).

    ``rows`` (n, D) are the training rows (NaN: missing), or any rows with the same column
    maxima and minima. A constant feature (range 0) is not counted: there is nothing for
    ``reg_covar`` to hide. About 1000 evenly spaced rows are looked at first; only the
    features whose range there is small are scanned in full.
    """
    if not isinstance(reg_covar, (int, float)) or reg_covar <= 0:
        return ()
    X = np.asarray(rows)
    if X.ndim != 2 or X.shape[0] == 0:
        return ()
    some = _ranges(X[:: max(1, X.shape[0] // 1024)])
    with np.errstate(over="ignore", invalid="ignore"):
        maybe = np.flatnonzero(~((some / 2.0) ** 2 >= float(reg_covar)))  # small, zero or unknown
    if maybe.size == 0:
        return ()
    full = _ranges(X[:, maybe])
    with np.errstate(over="ignore", invalid="ignore"):
        bad = (full > 0) & ((full / 2.0) ** 2 < float(reg_covar))
    return tuple(maybe[bad].tolist())


def _ranges(X: np.ndarray) -> np.ndarray:
    """Each column's maximum less its minimum, NaN ignored (NaN for a column of NaN only)."""
    X = X.astype(np.float64, copy=False)
    if not np.isnan(X).any():
        return np.ptp(X, axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column
        return np.nanmax(X, axis=0) - np.nanmin(X, axis=0)


def swamped_note(reg_covar: Any, features: tuple[int, ...]) -> str:
    """What :class:`~emix.exceptions.RegularizationWarning` says of ``features``."""
    return (
        f"reg_covar={reg_covar:g} is larger than any variance feature(s) {_join(features)} can have "
        "(their range is below 2 sqrt(reg_covar)): the covariances there are mostly reg_covar, which "
        "is absolute (as in scikit-learn), and clusters on that scale are lost. Scale the features "
        "(divide them by their standard deviation) or lower reg_covar"
    )


#: the note of ``diagnostics_`` read from a model file that has none
NO_DIAGNOSTICS = "read from a model file of an earlier emix, which kept no diagnostics"


def from_file(data: dict | None, converged: bool) -> Diagnostics:
    """The diagnostics a model file holds (``data``, its JSON), or for a file without them an
    empty record that says so."""
    if data is None:
        return Diagnostics(converged=converged, notes=(NO_DIAGNOSTICS,))
    return Diagnostics.from_json(data)
