"""What an M-step repaired, recorded as values while a fit runs.

A family's M-step repairs what it cannot estimate (a covariance that is not
positive definite gets diagonal jitter, a zero variance is floored, an
emptied component keeps its previous parameters) and warns. It also calls
:func:`note` with the components and what it did; while a fit records
(:func:`recording`, opened by the estimator around its restarts), each note
becomes a :class:`Repair`, stamped with the restart and the iteration the
driver set (:func:`at_iteration`, :func:`at_restart`). Outside a recording a
note costs one attribute lookup.

The state is per thread: a fit's M-steps run on the thread that called
``fit`` (the chunk pool's threads make only E-steps).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator

_STATE = threading.local()

#: at most this many repairs are kept per fit (a repair at every iteration of a long fit is one story)
MAX_RECORDED = 1000


@dataclasses.dataclass(frozen=True)
class Repair:
    """One repair an M-step made.

    Attributes
    ----------
    components : tuple of int
        The components repaired; empty for a parameter they share (a tied covariance).
    what : str
        What was done, e.g. ``"added 2.2e-15 to the covariance's diagonal"``.
    iteration : int
        The pass after which the M-step ran (``0``: the M-step of the starting
        responsibilities).
    restart : int
        The restart (``0`` to ``n_init - 1``).

    Examples
    --------
    >>> from emix.families.repairs import Repair
    >>> str(Repair((1,), "added 2.2e-15 to the covariance's diagonal", iteration=3))
    "component 1, iteration 3: added 2.2e-15 to the covariance's diagonal"
    """

    components: tuple[int, ...]
    what: str
    iteration: int = 0
    restart: int = 0

    def __str__(self) -> str:
        who = "shared parameters" if not self.components else _components(self.components)
        return f"{who}, iteration {self.iteration}: {self.what}"

    def to_json(self) -> dict:
        """A plain-JSON form (for model files)."""
        return {
            "components": list(self.components),
            "what": self.what,
            "iteration": self.iteration,
            "restart": self.restart,
        }

    @classmethod
    def from_json(cls, data: dict) -> Repair:
        """The repair :meth:`to_json` wrote."""
        return cls(
            tuple(int(k) for k in data["components"]),
            str(data["what"]),
            int(data["iteration"]),
            int(data["restart"]),
        )


def _components(components: tuple[int, ...]) -> str:
    word = "component" if len(components) == 1 else "components"
    return f"{word} {', '.join(str(k) for k in components)}"


@contextlib.contextmanager
def recording() -> Iterator[list[Repair]]:
    """Record the notes made on this thread until exit; yields the list they are appended to."""
    saved = (getattr(_STATE, "log", None), getattr(_STATE, "iteration", 0), getattr(_STATE, "restart", 0))
    log: list[Repair] = []
    _STATE.log, _STATE.iteration, _STATE.restart = log, 0, 0
    try:
        yield log
    finally:
        _STATE.log, _STATE.iteration, _STATE.restart = saved


def at_iteration(iteration: int) -> None:
    """The iteration the next notes belong to (the driver sets it before each M-step)."""
    _STATE.iteration = int(iteration)


def at_restart(restart: int) -> None:
    """The restart the next notes belong to; its iteration is ``0`` (the start's M-step)."""
    _STATE.restart, _STATE.iteration = int(restart), 0


def note(components: tuple[int, ...] | list[int], what: str) -> None:
    """Record a repair of ``components`` (empty: shared parameters) when a fit is recording."""
    log = getattr(_STATE, "log", None)
    if log is None or len(log) >= MAX_RECORDED:
        return
    comps = tuple(int(k) for k in components)
    log.append(Repair(comps, what, getattr(_STATE, "iteration", 0), getattr(_STATE, "restart", 0)))


def forget_iteration() -> None:
    """Drop the notes of the current restart and iteration: an M-step that EM did not take
    (it stops before a degenerate step when the M-step is exact, see :func:`emix.engine.run_em`)."""
    log = getattr(_STATE, "log", None)
    if log:
        it, restart = getattr(_STATE, "iteration", 0), getattr(_STATE, "restart", 0)
        log[:] = [r for r in log if (r.iteration, r.restart) != (it, restart)]


def mark() -> int:
    """The number of notes recorded so far on this thread (``0`` when not recording), for :func:`rewind`."""
    log = getattr(_STATE, "log", None)
    return 0 if log is None else len(log)


def rewind(position: int) -> None:
    """Drop the notes recorded after :func:`mark` returned ``position`` (a run that was discarded)."""
    log = getattr(_STATE, "log", None)
    if log is not None:
        del log[position:]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Record nothing until exit (for an M-step redone only to learn what it repairs)."""
    saved = getattr(_STATE, "log", None)
    _STATE.log = None
    try:
        yield
    finally:
        _STATE.log = saved
