"""The typer application and its command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from tidegate.cli import (
    _audit,
    _init,
    _new,
    _pipelines,
    _quarantine,
    _report,
    _review_web,
    _run,
    _schema,
    _server,
    _store,
)
from tidegate.cli._common import TidegateGroup

app = typer.Typer(
    name="tidegate",
    cls=TidegateGroup,
    help=(
        "tidegate: contracts, quarantine and a hash-chained audit trail for data pipelines.\n\n"
        "Start with `tidegate demo`, then `tidegate audit verify`.\n\n"
        "`tidegate run` exits 0 when every batch loaded, 3 when data was held back (a batch "
        "held, a file rejected, quarantine above a threshold), 2 when configuration or "
        "machinery failed."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tidegate {version('tidegate')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print `tidegate <version>` and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    del show_version  # acted on by its callback, before any command


app.command("init")(_init.init)
app.add_typer(_new.app, name="new")
app.command("run")(_run.run)
app.command("demo")(_run.demo)
app.add_typer(_schema.app, name="schema")
app.add_typer(_store.app, name="store")
app.add_typer(_audit.app, name="audit")
app.add_typer(_quarantine.app, name="quarantine")
app.command("review")(_review_web.review)
app.command("report")(_report.report)
app.command("doctor")(_report.doctor)
app.add_typer(_pipelines.app, name="pipelines")
app.command("serve")(_pipelines.serve)
app.command("deploy")(_pipelines.deploy)
app.add_typer(_server.app, name="server")
