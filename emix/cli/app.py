"""The ``emix`` Typer application: every command registered here, in the order ``emix --help`` lists them."""

from __future__ import annotations

import typer

from . import bootstrap, demo, fit, info, predict, sample, score, select, trace
from .errors import handle_errors

app = typer.Typer(
    name="emix",
    help="Fit mixture models with EM, use them, and watch EM work.\n\n"
    "Run [bold]emix demo[/] for a first look, [bold]emix trace[/] for EM step by step, "
    "and [bold]emix COMMAND --help[/] for the options and examples of each command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

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
    """Console entry point ``emix``."""
    app(prog_name="emix")
