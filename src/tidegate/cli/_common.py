"""Options and helpers shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store

console = Console()
err_console = Console(stderr=True)

ProjectOpt = Annotated[
    Path,
    typer.Option(
        "--project",
        "-p",
        envvar="TIDEGATE_PROJECT",
        help="Project folder (holds pipelines/ and schemas/). Default: the current folder.",
        file_okay=False,
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="TIDEGATE_STORE",
        help=(
            "The store: a DuckDB file, or a PostgreSQL URL "
            "(postgresql://user:${PASSWORD}@host/db) for a team. "
            "Default: <project>/.tidegate/tidegate.duckdb."
        ),
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", envvar="TIDEGATE_ACTOR", help="Who is acting, for the audit log."),
]


def resolve_store(project: Path, store: str | Path | None) -> Store:
    """``--store`` (a file or a ``postgresql://`` URL), else the project's default."""
    from tidegate.store import default_store_path, open_store

    return open_store(store) if store else default_store_path(project.resolve())


def fail(exc: TidegateError | str, code: int = 2) -> typer.Exit:
    """Print one error line (plain text: a message quoting data or a log is never
    markup) and the exit to raise."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    return typer.Exit(code)
