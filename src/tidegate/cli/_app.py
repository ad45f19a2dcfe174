"""The typer application and its command groups."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from tidegate.cli._common import TidegateGroup
from tidegate.cli._lazy_commands import LazyCommands

# Every command, in the order `--help` lists them (commands, then groups, as typer did),
# and where it lives: a command's module is imported only when that command runs (or
# `--help` lists it).
COMMANDS = {
    "init": "tidegate.cli._init:init",
    "run": "tidegate.cli._run:run",
    "demo": "tidegate.cli._run:demo",
    "review": "tidegate.cli._review_web:review",
    "report": "tidegate.cli._report:report",
    "doctor": "tidegate.cli._report:doctor",
    "serve": "tidegate.cli._pipelines:serve",
    "deploy": "tidegate.cli._pipelines:deploy",
    "new": "tidegate.cli._new:app",
    "schema": "tidegate.cli._schema:app",
    "store": "tidegate.cli._store:app",
    "audit": "tidegate.cli._audit:app",
    "quarantine": "tidegate.cli._quarantine:app",
    "pipelines": "tidegate.cli._pipelines:app",
    "server": "tidegate.cli._server:app",
}
RICH_MARKUP_MODE: Literal["rich"] = "rich"


class RootGroup(TidegateGroup):
    """The ``tidegate`` group: its commands are :data:`COMMANDS`, built when looked up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lazy = LazyCommands(COMMANDS, rich_markup_mode=RICH_MARKUP_MODE)
        for name, command in self.commands.items():
            lazy[name] = command
        self.commands = lazy


app = typer.Typer(
    name="tidegate",
    cls=RootGroup,
    help=(
        "tidegate: contracts, quarantine and a hash-chained audit trail for data pipelines.\n\n"
        "Start with `tidegate demo`, then `tidegate audit verify`.\n\n"
        "`tidegate run` exits 0 when every batch loaded, 3 when data was held back (a batch "
        "held, a file rejected, quarantine above a threshold), 2 when configuration or "
        "machinery failed."
    ),
    no_args_is_help=True,
    rich_markup_mode=RICH_MARKUP_MODE,
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
