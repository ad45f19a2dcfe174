"""`tidegate quarantine edit|replay|reject|export|import`: act on quarantined records.

``edit``, ``replay``, ``reject`` and ``import`` are audit events carrying the actor
(``--actor`` or ``TIDEGATE_ACTOR``) and check each record's version, so two reviewers
never overwrite each other silently. ``export`` writes pending records to a CSV to fix
in a spreadsheet and bring back with ``import``.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import assemble, cell_writer, plain
from tidegate.cli._common import (
    ActorOpt,
    ProjectOpt,
    StoreOpt,
    console,
    err_console,
    fail,
    resolve_store,
)
from tidegate.cli._list_options import batch_id
from tidegate.cli._pii import RevealOpt, pii_columns, reveal_records
from tidegate.cli._quarantine_options import BatchOpt, IdsArg, RuleOpt, SourceOpt, _filter
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store


def _parse_sets(sets: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for item in sets:
        if "=" not in item:
            raise fail(f"--set {item!r} is not valid; write --set column=value")
        key, value = item.split("=", 1)
        changes[key.strip()] = value
    return changes


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
        plain(
            f"record {record_id} edited: "
            + ", ".join(f"{k}={v!r}" for k, v in changes.items())
            + f"; now `tidegate quarantine replay {record_id}`"
        ),
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
    if not source and not batch:
        raise fail(
            "give record ids, or --source (with --rule/--batch) or --batch to act on every "
            "pending match"
        )
    return matching_ids(
        store_path,
        _filter(source=source, rule=rule, batch=batch_id(store_path, batch), status="pending"),
    )


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

    try:
        store_path = resolve_store(project, store)
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

    try:
        store_path = resolve_store(project, store)
        selected = _select(ids, source, rule, batch, store_path)
        n = reject_records(store_path, selected, reason, actor=actor) if selected else 0
    except TidegateError as exc:
        raise fail(exc) from exc
    console.print(f"{n} record(s) rejected")


def export(
    source: Annotated[str, typer.Option("--source", "-s", help="The source to export.")],
    rule: RuleOpt = None,
    batch: BatchOpt = None,
    output_format: Annotated[
        str, typer.Option("--format", help="csv (the only format so far).")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """Export pending records as CSV to fix in a spreadsheet, then `tidegate quarantine import`.

    PII columns are masked unless --reveal (audited); an import keeps a masked cell as it
    was, so the other columns can be fixed without seeing the personal data."""
    from tidegate.review import contract_for, contracts_by_source
    from tidegate.review._spreadsheet import (
        NEUTRALISED_NOTICE,
        export_header,
        export_row,
        neutralised,
    )
    from tidegate.store._quarantine import list_records as read_page

    if output_format != "csv":
        raise fail(f"--format {output_format!r} is not valid; use csv")
    try:
        contract = contract_for(contracts_by_source(project.resolve()), source)
        target = resolve_store(project, store)
        records, _ = read_page(
            target,
            _filter(source=source, rule=rule, batch=batch_id(target, batch), status="pending"),
            limit=10**9,
        )
        if reveal:
            reveal_records(target, "quarantine export --reveal", records, {source: contract})
    except TidegateError as exc:
        raise fail(exc) from exc
    buffer = io.StringIO()
    header = export_header(contract)
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    cell = cell_writer(sys.stdout if output is None else None)  # visible on a terminal only
    exported = [export_row(r, contract, masked=not reveal) for r in records]
    rows, formulas = neutralised(exported, header)
    for row in rows:
        writer.writerow({k: cell(v) for k, v in row.items()})
    if formulas:
        notice = NEUTRALISED_NOTICE.format(n=formulas)
        err_console.print(plain(f"note: {notice}"), highlight=False, soft_wrap=True)
    hidden = pii_columns(contract) if not reveal else []
    if hidden:
        err_console.print(
            plain(
                f"PII column(s) {', '.join(hidden)} masked; a masked cell is kept as it is on "
                "import (pass --reveal, audited, to export the values)"
            ),
            highlight=False,
        )
    if output:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        console.print(
            plain(
                f"{len(records)} record(s) written to {output}; fix the values, then "
                f"`tidegate quarantine import {output}`"
            )
        )
    else:
        sys.stdout.write(buffer.getvalue())


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
            console.print(assemble((f"{file}:{line}", "red"), f": {message}"), highlight=False)
        console.print(
            f"[bold red]import refused[/]: {len(problems)} problem(s); nothing was applied"
        )
        raise typer.Exit(1)
    try:
        n = edit_records(store_path, edits, contracts, actor=actor) if edits else 0
        console.print(plain(f"{n} record(s) edited from {file}"))
        if replay_after and edits:
            s = replay_records(store_path, list(edits), contracts, actor=actor)
            console.print(f"replayed: {s.loaded} loaded, {s.still_failing} still failing")
    except TidegateError as exc:
        raise fail(exc) from exc
