"""Usage errors in one line with the fix, and ``--flag true|false`` for every on/off option.

Click (which Typer vendors) reports a bad command line in a box with the
usage text; :class:`OneLineGroup` says it in one line instead, naming the
command and what to do, with exit status 2::

    emix fit: no such option --k; did you mean -k?
    emix fit: missing option -k/--n-components (Number of components K.); see 'emix fit --help'

It also reads ``--standardize true`` (or ``yes``, ``1``, ``on``; ``false``,
``no``, ``0``, ``off``) and ``--standardize=false`` as the flags
``--standardize`` / ``--no-standardize``, for every boolean flag of a command.

Click's exceptions are recognised by their class names, so that this works with
Typer's vendored Click as with Click itself.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from typer.core import TyperGroup

#: the words ``--flag WORD`` accepts
BOOL_WORDS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}


class OneLineGroup(TyperGroup):
    """The ``emix`` group: usage errors as one line on stderr (exit status 2), ``--flag true|false``."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line ``args`` (default: ``sys.argv[1:]``); see the module docstring."""
        args = spell_bool_flags(self, list(sys.argv[1:] if args is None else args))
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Exception as exc:
            names = _class_names(exc)
            if "ClickException" not in names and "Abort" not in names:
                raise
            if not standalone_mode:
                raise
            sys.exit(report(exc, names))
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def report(exc: BaseException, names: set[str]) -> int:
    """Write the one line for a Click error (the help text for a bare command) and return the exit status."""
    if "NoArgsIsHelpError" in names:
        exc.show()
        return int(getattr(exc, "exit_code", 2))
    if "Abort" in names:
        sys.stderr.write("emix: error: aborted\n")
        return 1
    sys.stderr.write(usage_line(exc, names) + "\n")
    sys.stderr.flush()
    return int(getattr(exc, "exit_code", 2))


def usage_line(exc: Any, names: set[str]) -> str:
    """``"emix CMD: PROBLEM; FIX"`` for a Click usage error.

    Parameters
    ----------
    exc : click.UsageError
        The error (``NoSuchOption``, ``MissingParameter``, ``BadParameter``...).
    names : set of str
        The names of its classes.

    Returns
    -------
    str
    """
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "emix"
    help_hint = f"see '{where} --help'"
    command = getattr(ctx, "command", None)
    if "NoSuchOption" in names:
        name = exc.option_name
        guess = suggest(name, option_strings(command))
        return f"{where}: no such option {name}; " + (f"did you mean {guess}?" if guess else help_hint)
    if "MissingParameter" in names and getattr(exc, "param", None) is not None:
        param = exc.param
        if getattr(param, "param_type_name", "") == "option":
            what = f"missing option {'/'.join(param.opts)}"
        else:
            what = f"missing argument {getattr(param, 'metavar', None) or str(param.name).upper()}"
        if getattr(param, "help", None):
            what += f" ({param.help.rstrip('.')})"
        return f"{where}: {what}; {help_hint}"
    text = " ".join(exc.format_message().split())
    if text.startswith("No such command") and command is not None:
        typed = text.split("'")[1] if text.count("'") >= 2 else ""
        guess = suggest(typed, command.list_commands(ctx))
        fix = (
            f"did you mean '{guess}'?"
            if guess
            else f"the commands are {', '.join(command.list_commands(ctx))}"
        )
        return f"{where}: no such command '{typed}'; {fix}"
    text = text.replace(": Value error, ", ": ")
    text = text[:1].lower() + text[1:]
    return f"{where}: {text.rstrip('.')}; {help_hint}"


def option_strings(command: Any) -> list[str]:
    """Every option string of a Click command (``-k``, ``--n-components``, ``--no-header``...)."""
    if command is None:
        return []
    out = []
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option":
            out.extend([*param.opts, *getattr(param, "secondary_opts", [])])
    return out


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be: same letters without dashes, a unique
    prefix, or the closest by spelling; None when nothing is close."""
    candidates = list(candidates)

    def bare(s: str) -> str:
        return s.lstrip("-").replace("_", "-").lower()

    same = [c for c in candidates if bare(c) == bare(name)]
    if same:
        return same[0]
    prefixed = [c for c in candidates if bare(name) and bare(c).startswith(bare(name))]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(bare(name), [bare(c) for c in candidates], n=1, cutoff=0.6)
    return next((c for c in candidates if bare(c) == close[0]), None) if close else None


def spell_bool_flags(group: Any, args: list[str]) -> list[str]:
    """``--flag WORD`` and ``--flag=WORD`` (``WORD`` in :data:`BOOL_WORDS`) as Click's on/off flags.

    Parameters
    ----------
    group : click.Group
        The ``emix`` group; the command is the first argument that is not an option.
    args : list of str
        The command line.

    Returns
    -------
    list of str
        ``args`` with each such pair replaced by the flag's on form, or its off
        form (``--no-flag``; left out when the flag has none and is off by default).
    """
    name = next((a for a in args if not a.startswith("-")), None)
    command = getattr(group, "commands", {}).get(name)
    if command is None:
        return args
    flags = {}
    for param in command.params:
        if getattr(param, "is_flag", False) and getattr(param, "is_bool_flag", False):
            off = param.secondary_opts[0] if getattr(param, "secondary_opts", None) else None
            for opt in param.opts:
                flags[opt] = (opt, off, param.default)
    out: list[str] = []
    i = 0
    while i < len(args):
        token, word = args[i], None
        head = token.split("=", 1)[0]
        if head in flags and "=" in token:
            word, step = token.split("=", 1)[1], 1
        elif token in flags and i + 1 < len(args):
            word, step = args[i + 1], 2
        if word is not None and word.lower() in BOOL_WORDS:
            on, off, default = flags[head]
            if BOOL_WORDS[word.lower()]:
                out.append(on)
            elif off is not None:
                out.append(off)
            elif default:
                out.append(token)  # cannot be switched off: leave it for Click to refuse
            i += step
            continue
        out.append(token)
        i += 1
    return out
