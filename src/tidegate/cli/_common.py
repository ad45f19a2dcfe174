"""Options and helpers shared by the commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tidegate.errors import TidegateError

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
    Path | None,
    typer.Option(
        "--store",
        envvar="TIDEGATE_STORE",
        help="DuckDB store file. Default: <project>/.tidegate/tidegate.duckdb.",
        dir_okay=False,
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", envvar="TIDEGATE_ACTOR", help="Who is acting, for the audit log."),
]


def resolve_store(project: Path, store: Path | None) -> Path:
    from tidegate.store._connect import default_store_path

    return store if store else default_store_path(project.resolve())


def fail(exc: TidegateError | str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code)


def quiet_prefect() -> None:
    """Keep Prefect's per-task log lines out of the CLI's output unless asked for."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    # The temporary server's telemetry cannot reach the network from a locked-down host.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
