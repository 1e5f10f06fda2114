"""The ``emix`` Typer application: every command registered here, in the order ``emix --help`` lists them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import bootstrap, demo, fit, info, predict, sample, score, select, trace
from .errors import handle_errors
from .usage import OneLineGroup

HELP = (
    "Fit mixture models with EM, use them, and watch EM work.\n\n"
    "Run [bold]emix demo[/] for a first look, [bold]emix trace[/] for EM step by step, "
    "and [bold]emix COMMAND --help[/] for the options and examples of each command."
)

app = typer.Typer(
    name="emix",
    cls=OneLineGroup,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    """``--version``: print ``emix VERSION`` and stop."""
    if value:
        from .._version import __version__

        sys.stdout.write(f"emix {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print emix's version and exit."
        ),
    ] = False,
) -> None:
    """The options of ``emix`` itself, before the command."""


# each command reports its errors as one line on stderr (see errors.handle_errors)
app.command("fit", epilog=fit.EPILOG)(handle_errors(fit.fit))
app.command("predict", epilog=predict.EPILOG)(handle_errors(predict.predict))
app.command("sample", epilog=sample.EPILOG)(handle_errors(sample.sample))
app.command("score", epilog=score.EPILOG)(handle_errors(score.score))
app.command("select", epilog=select.EPILOG)(handle_errors(select.select_command))
app.command("bootstrap", epilog=bootstrap.EPILOG)(handle_errors(bootstrap.bootstrap_command))
app.command("info", epilog=info.EPILOG)(handle_errors(info.info))
app.command("demo", epilog=demo.EPILOG)(handle_errors(demo.demo))
app.command("trace", epilog=trace.EPILOG)(handle_errors(trace.trace))


def main() -> None:
    """Console entry point ``emix`` (see :func:`emix.cli.main`, which checks the extra first)."""
    app(prog_name="emix")
