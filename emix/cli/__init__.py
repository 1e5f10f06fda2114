"""The ``emix`` command: fit, predict, sample, score, select, info, demo and trace.

Needs the ``cli`` extra (Typer, Rich, pandas, pyarrow); the pictures need the
``plot`` extra (matplotlib, pillow). This is the only package of emix that
prints. Every error is reported as one line on stderr with a non-zero exit
status, never as a traceback (set ``EMIX_DEBUG=1`` to see one); a bad command
line is one line too, with exit status 2.

Importing this package without the extra installed does not fail: ``app``
is then None, and :func:`main` (the console script) says in one line how to
install the extra instead of a ``ModuleNotFoundError``.

Layout: :mod:`.app` builds the Typer application and registers the commands,
one module each (:mod:`.fit`, :mod:`.predict`, :mod:`.sample`, :mod:`.score`,
:mod:`.select`, :mod:`.info`, :mod:`.demo`, :mod:`.trace`). What they share:
:mod:`.errors` (one-line errors), :mod:`.usage` (one-line usage errors),
:mod:`.options` (shared options), :mod:`.files` (model files and tables),
:mod:`.checks` (what a table looks like), :mod:`.console`, :mod:`.summary`
(the model summary) and :mod:`.progress` (the fit's progress bar).
"""

from __future__ import annotations

import sys

#: the modules of the ``cli`` extra the command needs to start
NEEDED = ("typer", "rich", "click")

try:
    from .app import app
except ImportError as _exc:  # the extra is not installed
    if (_exc.name or "").split(".")[0] not in NEEDED:
        raise
    app = None
    _MISSING: str | None = (_exc.name or "").split(".")[0]
else:
    _MISSING = None


def main() -> None:
    """Console entry point ``emix``: the command, or one line naming the extra when it is missing."""
    if _MISSING is not None:
        sys.stderr.write(
            f"emix: error: the emix command needs the cli extra (the module {_MISSING!r} is not "
            "installed); install it with: pip install 'emix[cli]'\n"
        )
        raise SystemExit(1)
    from .app import main as run

    run()


__all__ = ["app", "main"]
