"""Options and helpers shared by the commands."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

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
    """Print one error line and the exit to raise. The message quotes data (a file name,
    a value, a log), so it is plain text with its control characters made visible
    (see :mod:`tidegate._safe_text`); only its own line breaks stay."""
    from rich.text import Text

    from tidegate._safe_text import assemble, visible_lines

    message = assemble(("error:", "bold red"), " ", Text(visible_lines(str(exc))))
    err_console.print(message, highlight=False, soft_wrap=True)
    return typer.Exit(code)


_ANOTHER = "give another path (for the store: --store or TIDEGATE_STORE)"
_OS_FIXES = {
    errno.EACCES: f"check its permissions, or {_ANOTHER}",
    errno.EPERM: f"check its permissions, or {_ANOTHER}",
    errno.EROFS: f"the file system is read-only: {_ANOTHER}",
    errno.ENOSPC: f"the disk is full: free some space, or {_ANOTHER}",
    errno.ENOENT: "check the path (a folder in it does not exist)",
}


def os_error_line(exc: OSError) -> str:
    """One line for a failed file operation: what failed, on which path, what to do."""
    path = exc.filename if exc.filename is not None else "a file"
    what = exc.strerror or str(exc) or type(exc).__name__
    fix = _OS_FIXES.get(exc.errno or 0, "check the path and its permissions")
    return f"{what}: {path}; {fix}"


def _driver_io_error(exc: BaseException) -> bool:
    """A DuckDB I/O or permission error (duckdb is looked at only if a command loaded it)."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(exc, duckdb.IOException | duckdb.PermissionException)


def one_line(exc: BaseException) -> str | None:
    """The one-line message of an error a user can cause (a path that cannot be written,
    a read-only file system, a refused configuration), or None for anything else."""
    if isinstance(exc, TidegateError):
        return " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno != errno.EPIPE:  # click handles a closed pipe
        return os_error_line(exc)
    if _driver_io_error(exc):
        text = " ".join(str(exc).split())
        return (
            f"the store cannot be read or written ({text}); check the path and its "
            "permissions, or point --store (TIDEGATE_STORE) at a writable place"
        )
    return None


class TidegateGroup(TyperGroup):
    """The root command group: an error a user can cause, wherever a command raises it,
    ends in one line on stderr and exit 2, never a traceback (see :func:`one_line`)."""

    def invoke(self, ctx: Any) -> Any:  # typer._click.Context (click, as vendored by typer)
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = one_line(exc)
            if message is None:
                raise
            raise fail(message) from exc
