"""`tidegate server start|stop|status`: the Prefect server tidegate runs in the background."""

from __future__ import annotations

import os

import typer

from tidegate._safe_text import markup_safe
from tidegate.cli._common import console, fail
from tidegate.errors import TidegateError

app = typer.Typer(
    help=(
        "The Prefect server tidegate starts in the background when PREFECT_API_URL is not "
        "set: one per user (database in $TIDEGATE_HOME/prefect-server, default "
        "~/.tidegate/prefect-server), started once and reused by every later run. "
        "`tidegate run` starts it by itself; these commands manage it by hand."
    ),
    no_args_is_help=True,
)


def _describe(url: str, pid: int, home: str, log: str, started_at: str) -> None:
    console.print(
        f"  API      [cyan]{markup_safe(url)}[/]  (UI {markup_safe(url.removesuffix('/api'))})"
    )
    console.print(f"  process  {pid}, started {started_at}", highlight=False)
    console.print(f"  database {markup_safe(home)}/prefect.db", highlight=False)
    console.print(f"  log      {markup_safe(log)}", highlight=False)


@app.command("start")
def start() -> None:
    """Start the background Prefect server (or find it running) and wait until it answers.

    Waits up to TIDEGATE_SERVER_TIMEOUT seconds (default 180: the first start creates
    the database and takes long on a busy machine). The port is TIDEGATE_SERVER_PORT
    (default 4200). Exit 2 with the log's last lines if it does not answer in time.
    """
    from tidegate.flows._server import read_info, start_server

    already = read_info()
    try:
        with console.status("starting the Prefect server in the background") as status:
            info = start_server(
                on_wait=lambda s: status.update(f"waiting for the Prefect server: {s:.0f} s")
            )
    except TidegateError as exc:
        raise fail(exc) from None
    verb = "already running" if already is not None and already.pid == info.pid else "started"
    console.print(f"[green]✓[/] Prefect server {verb}")
    _describe(info.url, info.pid, info.home, info.log, info.started_at)
    if os.environ.get("PREFECT_API_URL") not in (None, "", info.url):
        console.print(
            f"[yellow]note:[/] PREFECT_API_URL={markup_safe(os.environ['PREFECT_API_URL'])} "
            "is set, "
            "so runs in this shell use that API, not this server",
            highlight=False,
        )


@app.command("stop")
def stop() -> None:
    """Stop the background Prefect server (its database stays for the next start)."""
    from tidegate.flows._server import stop_server

    info = stop_server()
    if info is None:
        console.print("no tidegate Prefect server is running")
    else:
        console.print(f"[green]✓[/] stopped the Prefect server {markup_safe(info.ui)} ({info.pid})")


@app.command("status")
def status() -> None:
    """Say whether the background Prefect server runs and answers (exit 0) or not (exit 1),
    and which Prefect API `tidegate run` would use. Does not import Prefect."""
    from tidegate.flows._server import healthy, read_info, server_dir

    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        console.print(
            f"runs use PREFECT_API_URL={markup_safe(configured)} (set in the environment)",
            highlight=False,
        )
    info = read_info()
    if info is None:
        console.print(
            f"tidegate's Prefect server is not running ({markup_safe(str(server_dir()))}); "
            "`tidegate run` starts it, or `tidegate server start`",
            highlight=False,
        )
        raise typer.Exit(1)
    answering = healthy(info.url)
    mark = "[green]answering[/]" if answering else "[red]not answering[/]"
    console.print(f"tidegate's Prefect server is running, {mark}")
    _describe(info.url, info.pid, info.home, info.log, info.started_at)
    if not answering:
        raise typer.Exit(1)
