"""`tidegate audit ...`: read-only commands over the audit trail (no Prefect import)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

app = typer.Typer(help="Query and verify the audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(project: ProjectOpt = Path("."), store: StoreOpt = None) -> None:
    """Recompute the hash chain; exit 1 naming the first bad sequence number."""
    from tidegate.audit import verify_chain

    path = resolve_store(project, store)
    try:
        report = verify_chain(path)
    except TidegateError as exc:
        raise fail(exc) from exc
    if report.ok:
        console.print(
            f"[green]audit chain intact[/]: {report.entries} entries verified, "
            f"head seq {report.head_seq}, head hash {report.head_hash}",
            highlight=False,
        )
        return
    console.print(
        f"[bold red]audit chain broken at seq {report.first_bad_seq}[/]: {report.reason} "
        f"({report.entries} entries before it verified)",
        highlight=False,
    )
    raise typer.Exit(1)


@app.command("list")
def list_entries(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    event: Annotated[str | None, typer.Option(help="Only this event type.")] = None,
    last: Annotated[int, typer.Option(help="How many of the newest entries.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Show the newest audit entries."""
    from rich.table import Table

    from tidegate.store import connect, read_audit

    path = resolve_store(project, store)
    clauses, params = [], []
    if source:
        clauses.append("source = ?")
        params.append(source)
    if event:
        clauses.append("event = ?")
        params.append(event)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    try:
        with connect(path, read_only=True) as con:
            entries = read_audit(con, where, params)[-last:]
    except TidegateError as exc:
        raise fail(exc) from exc
    if as_json:
        for e in entries:
            typer.echo(json.dumps({**e.body(), "detail": e.detail_dict, "hash": e.hash}))
        return
    table = Table("seq", "at", "actor", "event", "source", "summary")
    for e in entries:
        d = e.detail_dict
        summary = (
            " ".join(
                f"{k}={d[k]}" for k in ("rows_in", "loaded", "quarantined", "duplicates") if k in d
            )
            or str(d.get("reason", ""))[:60]
        )
        table.add_row(str(e.seq), e.at, e.actor, e.event, e.source or "", summary)
    console.print(table)
