"""The ``emix`` command: fit, predict, sample, score, select, info, demo and trace.

Needs the ``cli`` extra (Typer, Rich, pandas, pyarrow); the pictures need the
``plot`` extra (matplotlib, pillow). This is the only package of emix that
prints. Every error is reported as one line on stderr with a non-zero exit
status, never as a traceback (set ``EMIX_DEBUG=1`` to see one).

Layout: :mod:`.app` builds the Typer application and registers the commands,
one module each (:mod:`.fit`, :mod:`.predict`, :mod:`.sample`, :mod:`.score`,
:mod:`.select`, :mod:`.info`, :mod:`.demo`, :mod:`.trace`). What they share:
:mod:`.errors` (one-line errors), :mod:`.options` (shared options),
:mod:`.files` (model files and tables), :mod:`.console`, :mod:`.summary`
(the model summary) and :mod:`.progress` (the fit's progress bar).
"""

from .app import app, main

__all__ = ["app", "main"]
