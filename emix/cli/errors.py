"""How a command fails: ``Failure`` and the wrapper that turns any error into one line on stderr."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer

from ..exceptions import EmixError


class Failure(Exception):
    """A user-facing error raised inside a command: reported as ``emix: error: MESSAGE``."""


def error_line(message: str) -> None:
    """Write ``emix: error: MESSAGE`` on stderr.

    Parameters
    ----------
    message : str
        The error, written as it is.
    """
    # plain write: Rich markup in user text (brackets) must not be interpreted
    sys.stderr.write(f"emix: error: {message}\n")
    sys.stderr.flush()


def describe(exc: BaseException) -> str:
    """The one line that reports ``exc`` to the user.

    Parameters
    ----------
    exc : BaseException
        The error a command raised.

    Returns
    -------
    str
        Its message on one line; an ImportError says which extras to install,
        an OSError names its file.
    """
    if isinstance(exc, ImportError):
        return f"{exc}; install the extras with: pip install 'emix[cli,plot]'"
    if isinstance(exc, OSError) and exc.filename and not isinstance(exc, EmixError):
        return f"{exc.filename}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def handle_errors(fn: Callable) -> Callable:
    """Turn exceptions into one line on stderr and an exit status; show warnings as one line.

    Parameters
    ----------
    fn : callable
        A command function.

    Returns
    -------
    callable
        ``fn`` with the same signature (Typer reads it through ``__wrapped__``),
        which exits with status 1 on an error (130 on Ctrl-C) after one line
        ``emix: error: ...``, and prints each distinct warning once as
        ``emix: warning: ...``. With ``EMIX_DEBUG`` set, errors propagate.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen: set[str] = set()

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            text = str(message)
            if text not in seen:
                seen.add(text)
                sys.stderr.write(f"emix: warning: {text}\n")

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            try:
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, SystemExit):
                raise
            except KeyboardInterrupt:
                error_line("interrupted")
                raise typer.Exit(130) from None
            except (Failure, EmixError, OSError, ValueError, TypeError, ImportError) as exc:
                if os.environ.get("EMIX_DEBUG"):
                    raise
                error_line(describe(exc))
                raise typer.Exit(1) from None
            except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
                if os.environ.get("EMIX_DEBUG"):
                    raise
                error_line(f"internal error: {type(exc).__name__}: {exc} (set EMIX_DEBUG=1 for details)")
                raise typer.Exit(1) from None

    return wrapper
