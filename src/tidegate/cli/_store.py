"""`tidegate store init`: create the store, and on PostgreSQL grant the roles that use it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

app = typer.Typer(
    help="Set up the store: a DuckDB file, or a PostgreSQL database for a team.",
    no_args_is_help=True,
)


@app.command("init")
def init(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    grant_writer: Annotated[
        list[str] | None,
        typer.Option(
            "--grant-writer",
            help=(
                "PostgreSQL role that runs flows and review actions: INSERT and SELECT on "
                "the audit log only, so it can neither change entries nor drop the "
                "append-only triggers. Repeat for several roles."
            ),
        ),
    ] = None,
) -> None:
    """Create the store's tables (and, on PostgreSQL, the append-only audit triggers).

    Run it once as the role that should own the store; flows create the tables on
    first use too, but only `init` grants a separate writer role.
    """
    from tidegate.store._init import init_store

    target = resolve_store(project, store)
    try:
        report = init_store(target, tuple(grant_writer or ()))
    except TidegateError as exc:
        raise fail(exc) from None
    console.print(f"store [cyan]{report.store}[/] ready: {', '.join(report.tables)}")
    for statement in report.granted:
        console.print(f"  [green]✓[/] {statement}", highlight=False)
