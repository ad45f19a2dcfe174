"""`tidegate quarantine ...`: review quarantined records from the command line.

``list`` and ``show`` only read (no Prefect, no pandera). ``edit``, ``replay``,
``reject`` and ``import`` are audit events carrying the actor (``--actor`` or
``TIDEGATE_ACTOR``) and check each record's version, so two reviewers never
overwrite each other silently.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tidegate.cli._common import ActorOpt, ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store

app = typer.Typer(
    help="Review quarantined records: list, show, edit, replay, reject.", no_args_is_help=True
)

SourceOpt = Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")]
RuleOpt = Annotated[
    str | None, typer.Option("--rule", "-r", help="Only records failing this rule id.")
]
ColumnOpt = Annotated[
    str | None, typer.Option("--column", "-c", help="Only records with an error on this column.")
]
BatchOpt = Annotated[str | None, typer.Option("--batch", help="Only this batch id.")]
SinceOpt = Annotated[
    datetime | None, typer.Option(help="Quarantined at or after (UTC), e.g. 2024-05-01.")
]
UntilOpt = Annotated[datetime | None, typer.Option(help="Quarantined before (UTC).")]
IdsArg = Annotated[
    list[int] | None, typer.Argument(help="Record ids (see `tidegate quarantine list`).")
]


def _filter(**kw: Any) -> Any:
    from tidegate.store._quarantine import QuarantineFilter

    return QuarantineFilter(**kw)


def _first_message(record: Any) -> str:
    if not record.errors:
        return ""
    e = record.errors[0]
    more = f" (+{len(record.errors) - 1})" if len(record.errors) > 1 else ""
    column = f"{e['column']}: " if e.get("column") else ""
    return f"{column}{e['message']}{more}"


@app.command("list")
def list_records(
    source: SourceOpt = None,
    rule: RuleOpt = None,
    column: ColumnOpt = None,
    status: Annotated[
        str | None, typer.Option(help="pending, replayed or rejected (default: all).")
    ] = None,
    batch: BatchOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="Records per page.")] = 50,
    page: Annotated[int, typer.Option(min=1, help="Page number, from 1.")] = 1,
    output: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """List quarantined records with filters and paging."""
    from tidegate.store._quarantine import STATUSES
    from tidegate.store._quarantine import list_records as read_page

    if output not in ("table", "json", "csv"):
        raise fail(f"--format {output!r} is not valid; use table, json or csv")
    if status and status not in STATUSES:
        raise fail(f"--status {status!r} is not valid; use one of {', '.join(STATUSES)}")
    flt = _filter(
        source=source,
        rule=rule,
        column=column,
        status=status,
        batch=batch,
        since=since,
        until=until,
    )
    try:
        records, total = read_page(
            resolve_store(project, store), flt, limit=limit, offset=(page - 1) * limit
        )
    except TidegateError as exc:
        raise fail(exc) from exc
    if output == "json":
        for r in records:
            typer.echo(json.dumps(r.as_dict(), default=str))
        return
    if output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(
            [
                "id",
                "source",
                "location",
                "record",
                "status",
                "version",
                "rules",
                "message",
                "updated_by",
                "updated_at",
            ]
        )
        for r in records:
            writer.writerow(
                [
                    r.id,
                    r.source,
                    r.location,
                    r.record,
                    r.status,
                    r.version,
                    ",".join(r.rules),
                    _first_message(r),
                    r.updated_by,
                    r.updated_at,
                ]
            )
        return
    from rich import box
    from rich.table import Table

    table = Table(
        "id",
        *([] if source else ["source"]),
        "file:line",
        "status",
        "rules",
        "first error",
        "by",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col in table.columns:
        col.no_wrap, col.overflow = True, "ellipsis"
    for r in records:
        where = f"{Path(r.location or '?').name}:{r.record if r.record is not None else 'file'}"
        table.add_row(
            str(r.id),
            *([] if source else [r.source]),
            where,
            r.status,
            ",".join(r.rules),
            _first_message(r)[:48],
            r.updated_by,
        )
    console.print(table)
    first = (page - 1) * limit + 1 if records else 0
    console.print(
        f"records {first}-{first + len(records) - 1 if records else 0} of {total}"
        + (f"; next page: --page {page + 1}" if first + len(records) - 1 < total else "")
    )


@app.command("show")
def show(
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Show one record: the raw values as read beside the normalized ones, failing cells in red."""
    from rich.table import Table

    from tidegate.review import contracts_by_source, raw_by_column
    from tidegate.store._quarantine import get_records

    try:
        records = get_records(resolve_store(project, store), [record_id])
    except TidegateError as exc:
        raise fail(exc) from exc
    if not records:
        raise fail(f"no quarantine record with id {record_id}; see `tidegate quarantine list`")
    r = records[0]
    contract = contracts_by_source(project.resolve()).get(r.source)
    console.print(
        f"[bold]record {r.id}[/] {r.source}  {r.location}:{r.record}  status [bold]{r.status}[/]  "
        f"version {r.version}  batch {r.batch_id}  contract v{r.contract_version}  "
        f"last by {r.updated_by} at {r.updated_at:%Y-%m-%d %H:%M:%S}",
        highlight=False,
    )
    raw = raw_by_column(r, contract) if contract else dict(r.raw)
    columns = contract.column_names if contract else list(raw)
    failing = r.failing_columns
    table = Table("column", "raw (as read)", "normalized", "edited")
    for c in columns:
        style = "bold red" if c in failing else ""
        cells = [raw.get(c), (r.normalized or {}).get(c), r.edited.get(c, "")]
        table.add_row(
            c,
            *(
                f"[{style}]{v}[/]"
                if style and v not in ("", None)
                else ("" if v is None else str(v))
                for v in cells
            ),
        )
    console.print(table)
    if "text" in r.raw and len(r.raw) == 1:
        console.print(f"record text as read: {r.raw['text']!r}", highlight=False)
    for e in r.errors:
        column = f"[bold]{e['column']}[/] " if e.get("column") else ""
        console.print(
            f"  [red]✗[/] {e['rule']}: {column}{e['message']} (value {e['value']!r})",
            highlight=False,
        )
    if r.reason:
        console.print(f"rejected: {r.reason}")


def _parse_sets(sets: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for item in sets:
        if "=" not in item:
            raise fail(f"--set {item!r} is not valid; write --set column=value")
        key, value = item.split("=", 1)
        changes[key.strip()] = value
    return changes


@app.command("edit")
def edit(
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    sets: Annotated[list[str], typer.Option("--set", help="column=value (repeat for several).")],
    version: Annotated[
        int | None, typer.Option(help="Expected version (from `show`); refuses if it changed.")
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Change values of a pending record; the raw record stays as it was read."""
    from tidegate.review import contracts_by_source, edit_records

    changes = _parse_sets(sets)
    try:
        edit_records(
            resolve_store(project, store),
            {record_id: (version, changes)},
            contracts_by_source(project.resolve()),
            actor=actor,
        )
    except TidegateError as exc:
        raise fail(exc) from exc
    console.print(
        f"record {record_id} edited: "
        + ", ".join(f"{k}={v!r}" for k, v in changes.items())
        + f"; now `tidegate quarantine replay {record_id}`",
        highlight=False,
    )


def _select(
    ids: list[int] | None,
    source: str | None,
    rule: str | None,
    batch: str | None,
    store_path: Store,
) -> list[int]:
    from tidegate.store._quarantine import matching_ids

    if ids and (source or rule or batch):
        raise fail("give record ids or a filter (--source, --rule, --batch), not both")
    if ids:
        return ids
    if not source:
        raise fail(
            "give record ids, or --source (with --rule/--batch) to act on every pending match"
        )
    return matching_ids(
        store_path, _filter(source=source, rule=rule, batch=batch, status="pending")
    )


@app.command("replay")
def replay(
    ids: IdsArg = None,
    source: SourceOpt = None,
    rule: RuleOpt = None,
    batch: BatchOpt = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Re-normalize and re-validate records under the current contract; load those that pass."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tidegate.review import contracts_by_source, replay_records

    store_path = resolve_store(project, store)
    try:
        selected = _select(ids, source, rule, batch, store_path)
        if not selected:
            console.print("no pending record matches; nothing to replay")
            return
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("replay", total=len(selected))
            summary = replay_records(
                store_path,
                selected,
                contracts_by_source(project.resolve()),
                actor=actor,
                on_progress=lambda n: progress.advance(task, n),
            )
    except TidegateError as exc:
        raise fail(exc) from exc
    console.print(
        f"[green]{summary.loaded} loaded[/], [red]{summary.still_failing} still failing[/], "
        f"{summary.skipped} not pending (skipped), {len(summary.conflicts)} conflicts, "
        f"{len(summary.not_replayable)} file-level (fix the file, then `tidegate run "
        f"SOURCE --reprocess`)",
        highlight=False,
    )
    if summary.failing_ids:
        console.print(
            f"still failing: {', '.join(map(str, summary.failing_ids[:20]))}"
            + (" ..." if len(summary.failing_ids) > 20 else "")
        )
    if summary.conflicts:
        console.print(f"[yellow]changed by someone else meanwhile[/]: {summary.conflicts}")


@app.command("reject")
def reject(
    ids: IdsArg = None,
    reason: Annotated[
        str, typer.Option(help="Why the records are dropped (required, audited).")
    ] = "",
    source: SourceOpt = None,
    rule: RuleOpt = None,
    batch: BatchOpt = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Reject records for good, with a reason."""
    from tidegate.review import reject_records

    store_path = resolve_store(project, store)
    try:
        selected = _select(ids, source, rule, batch, store_path)
        n = reject_records(store_path, selected, reason, actor=actor) if selected else 0
    except TidegateError as exc:
        raise fail(exc) from exc
    console.print(f"{n} record(s) rejected")


@app.command("export")
def export(
    source: Annotated[str, typer.Option("--source", "-s", help="The source to export.")],
    rule: RuleOpt = None,
    output_format: Annotated[
        str, typer.Option("--format", help="csv (the only format so far).")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Export pending records as CSV to fix in a spreadsheet, then `tidegate quarantine import`."""
    from tidegate.review import contract_for, contracts_by_source
    from tidegate.review._spreadsheet import export_header, export_row
    from tidegate.store._quarantine import list_records as read_page

    if output_format != "csv":
        raise fail(f"--format {output_format!r} is not valid; use csv")
    try:
        contract = contract_for(contracts_by_source(project.resolve()), source)
        records, _ = read_page(
            resolve_store(project, store),
            _filter(source=source, rule=rule, status="pending"),
            limit=10**9,
        )
    except TidegateError as exc:
        raise fail(exc) from exc
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=export_header(contract))
    writer.writeheader()
    for r in records:
        writer.writerow(export_row(r, contract))
    if output:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        console.print(
            f"{len(records)} record(s) written to {output}; fix the values, then "
            f"`tidegate quarantine import {output}`"
        )
    else:
        sys.stdout.write(buffer.getvalue())


@app.command("import")
def import_edits(
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV written by `tidegate quarantine export`.", exists=True, dir_okay=False
        ),
    ],
    replay_after: Annotated[
        bool, typer.Option("--replay", help="Replay the edited records after import.")
    ] = False,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Bring back a fixed export: all of it is applied, or nothing (with a line-by-line report)."""
    from tidegate.review import contracts_by_source, edit_records, replay_records
    from tidegate.review._spreadsheet import plan_import

    store_path = resolve_store(project, store)
    contracts = contracts_by_source(project.resolve())
    try:
        edits, problems = plan_import(store_path, file, contracts)
    except TidegateError as exc:
        raise fail(exc) from exc
    if problems:
        for line, message in problems:
            console.print(f"[red]{file}:{line}[/]: {message}", highlight=False)
        console.print(
            f"[bold red]import refused[/]: {len(problems)} problem(s); nothing was applied"
        )
        raise typer.Exit(1)
    try:
        n = edit_records(store_path, edits, contracts, actor=actor) if edits else 0
        console.print(f"{n} record(s) edited from {file}")
        if replay_after and edits:
            s = replay_records(store_path, list(edits), contracts, actor=actor)
            console.print(f"replayed: {s.loaded} loaded, {s.still_failing} still failing")
    except TidegateError as exc:
        raise fail(exc) from exc
