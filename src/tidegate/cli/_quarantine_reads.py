"""`tidegate quarantine list|show`: read quarantined records; nothing is written.

These only read (no Prefect, no pandera), so they start fast.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import Part, assemble, cell_writer, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.cli._list_options import FormatOpt, LimitOpt, batch_id, time_range
from tidegate.cli._pii import RevealOpt, mask_records, reveal_records
from tidegate.cli._quarantine_options import (
    BatchOpt,
    ColumnOpt,
    RuleOpt,
    SinceOpt,
    SourceOpt,
    StatusOpt,
    UntilOpt,
    _filter,
    status_filter,
)
from tidegate.cli._quarantine_table import first_message
from tidegate.errors import TidegateError

COUNT_CAP = 10_000  # the table's total counts no further ("of more than 10,000")


def list_records(
    source: SourceOpt = None,
    rule: RuleOpt = None,
    column: ColumnOpt = None,
    status: StatusOpt = "pending",
    batch: BatchOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = 50,
    page: Annotated[
        int,
        typer.Option(
            min=1,
            help="Page number, from 1 (oldest first). Offset-based: a deep page walks the ids "
            "before it, so it is slower than --after.",
        ),
    ] = 1,
    after: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Keyset paging: the records after this id (the last id of the page before); "
            "as fast at any depth. Prints the next --after to use.",
        ),
    ] = None,
    output: FormatOpt = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """List quarantined records with filters and paging: pending ones unless --status says
    otherwise (as the review web page), 50 a page, oldest first; PII masked unless
    --reveal. Every id shown (record
    and batch) is whole, at any terminal width, and accepted by the other commands."""
    from tidegate.store._quarantine import list_records as read_page

    if output not in ("table", "json", "csv"):
        raise fail(f"--format {output!r} is not valid; use table, json or csv")
    try:
        lower, upper = time_range(since, until)
        store_path = resolve_store(project, store)
        flt = _filter(
            source=source,
            rule=rule,
            column=column,
            status=status_filter(status),
            batch=batch_id(store_path, batch),
            since=lower,
            until=upper,
        )
        if after is not None and page > 1:
            raise fail(f"--page {page} and --after {after} both say where to start; use one")
        records, total = read_page(
            store_path,
            flt,
            limit=limit,
            offset=(page - 1) * limit if after is None else 0,
            after=after,
            # only the table prints a total; a later keyset page does not count again
            count=after is None and output == "table",
            count_cap=COUNT_CAP,
        )
    except TidegateError as exc:
        raise fail(exc) from exc
    if output == "json":  # the only format that prints values
        from tidegate.review import contracts_by_source

        target = resolve_store(project, store)
        try:
            contracts = contracts_by_source(project.resolve())
            if reveal:
                reveal_records(target, "quarantine list --reveal", records, contracts)
        except TidegateError as exc:
            raise fail(exc) from exc
        for r in records if reveal else mask_records(records, contracts):
            typer.echo(json.dumps(r.as_dict(), default=str))
        return
    if output == "csv":
        writer, cell = csv.writer(sys.stdout), cell_writer(sys.stdout)  # visible on a tty
        writer.writerow(
            [
                "id",
                "source",
                "batch_id",
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
                cell(v)
                for v in [
                    r.id,
                    r.source,
                    r.batch_id,
                    r.location,
                    r.record,
                    r.status,
                    r.version,
                    ",".join(r.rules),
                    first_message(r),
                    r.updated_by,
                    r.updated_at,
                ]
            )
        return
    from tidegate.cli._quarantine_table import print_records
    from tidegate.store._batch_ids import short_batch_ids

    try:
        labels = short_batch_ids(store_path, (r.batch_id for r in records))
    except TidegateError as exc:
        raise fail(exc) from exc
    print_records(console, records, labels, with_source=not source)
    more = len(records) == limit and (total < 0 or (page - 1) * limit + len(records) < total)
    nxt = f"; next page: --after {records[-1].id}" if more else ""
    if after is not None:
        console.print(f"{len(records)} record(s) after id {after}{nxt}")
        return
    first = (page - 1) * limit + 1 if records else 0
    console.print(
        f"records {first}-{first + len(records) - 1 if records else 0} of "
        + (f"more than {COUNT_CAP:,}" if total > COUNT_CAP else str(total))
        + (f"; next page: --page {page + 1} (or --after {records[-1].id})" if more else "")
    )


def show(
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """Show one record: the raw values as read beside the normalized ones, failing cells in red.

    PII column values are masked as on the web page unless --reveal (audited)."""
    from rich.table import Table

    from tidegate.review import contracts_by_source, raw_by_column
    from tidegate.store._quarantine import get_records

    try:
        records = get_records(resolve_store(project, store), [record_id])
    except TidegateError as exc:
        raise fail(exc) from exc
    if not records:
        raise fail(f"no quarantine record with id {record_id}; see `tidegate quarantine list`")
    try:
        contracts = contracts_by_source(project.resolve())
        if reveal:
            reveal_records(
                resolve_store(project, store), "quarantine show --reveal", records, contracts
            )
    except TidegateError as exc:
        raise fail(exc) from exc
    r = records[0] if reveal else mask_records(records, contracts)[0]
    contract = contracts.get(r.source)
    console.print(
        assemble(
            (f"record {r.id}", "bold"),
            f" {r.source}  {r.location}:{r.record}  status ",
            (r.status, "bold"),
            f"  version {r.version}  batch {r.batch_id}  contract v{r.contract_version}  "
            f"last by {r.updated_by} at {r.updated_at:%Y-%m-%d %H:%M:%S}",
        ),
        highlight=False,
    )
    raw = raw_by_column(r, contract) if contract else dict(r.raw)
    columns = contract.column_names if contract else list(raw)
    failing = r.failing_columns
    table = Table("column", "raw (as read)", "normalized", "edited")
    for c in columns:
        style = "bold red" if c in failing else ""
        cells = [raw.get(c), (r.normalized or {}).get(c), r.edited.get(c, "")]
        table.add_row(plain(c), *(plain(v, style if v not in ("", None) else "") for v in cells))
    console.print(table)
    if "text" in r.raw and len(r.raw) == 1:
        console.print(plain(f"record text as read: {r.raw['text']!r}"), highlight=False)
    for e in r.errors:
        column: list[Part] = [(str(e["column"]), "bold"), " "] if e.get("column") else []
        console.print(
            assemble(
                "  ",
                ("✗", "red"),
                f" {e['rule']}: ",
                *column,
                f"{e['message']} (value {e['value']!r})",
            ),
            highlight=False,
        )
    if r.reason:
        console.print(plain(f"rejected: {r.reason}"))
