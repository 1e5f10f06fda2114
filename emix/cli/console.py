"""The two Rich consoles every command prints through: results on stdout, messages on stderr."""

from __future__ import annotations

from rich.console import Console


def out() -> Console:
    """The console for results (stdout): no highlighting, no soft wrapping.

    Returns
    -------
    rich.console.Console
    """
    return Console(highlight=False, soft_wrap=False)


def err() -> Console:
    """The console for messages and the progress bar (stderr).

    Returns
    -------
    rich.console.Console
    """
    return Console(stderr=True, highlight=False, soft_wrap=True)
