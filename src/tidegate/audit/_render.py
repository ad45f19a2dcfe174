"""Print audit query results as a rich table, JSON lines or CSV.

Entries quote data (file names, reasons, edited values): on the terminal every such
value is plain text with its control characters made visible, and JSON lines carry
the ones a terminal would act on as ``\\uXXXX`` escapes (see :mod:`tidegate._safe_text`).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tidegate._safe_text import assemble, cell_writer, json_dumps, json_text, plain
from tidegate.audit._query import entry_record, entry_summary
from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry

if TYPE_CHECKING:
    from rich.console import Console

    from tidegate.audit._trace import RecordTrace

FORMATS = ("table", "json", "csv")
ENTRY_CSV_COLUMNS = ["seq", "at", "actor", "event", "source", "batch_id", "detail", "prev_hash"]


def check_format(output: str) -> str:
    if output not in FORMATS:
        raise AuditQueryError(f"--format {output!r} is not valid; use table, json or csv")
    return output


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def print_rows(
    console: Console, columns: Sequence[str], rows: Sequence[Sequence[Any]], output: str
) -> None:
    """Generic rows: a table, one JSON object per line, or CSV with a header."""
    if output == "json":
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            sys.stdout.write(json_dumps(record, default=str) + "\n")
    elif output == "csv":
        writer, cell = csv.writer(sys.stdout, lineterminator="\n"), cell_writer(sys.stdout)
        writer.writerow([cell(c) for c in columns])
        writer.writerows([[cell(_text(v)) for v in row] for row in rows])
    else:
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*(plain(_text(v)) for v in row))
        console.print(table)


def print_entries(console: Console, entries: Sequence[AuditEntry], output: str) -> None:
    """Audit entries: a summary table, full JSON lines, or CSV (detail as JSON text)."""
    if output == "json":
        for e in entries:
            sys.stdout.write(json_dumps(entry_record(e)) + "\n")
    elif output == "csv":
        rows = [[getattr(e, c) for c in ENTRY_CSV_COLUMNS] + [e.hash] for e in entries]
        print_rows(console, [*ENTRY_CSV_COLUMNS, "hash"], rows, "csv")
    else:
        from rich.table import Table

        table = Table("seq", "at (UTC)", "actor", "event", "source", "batch", "summary")
        for column in table.columns[:4]:
            column.no_wrap = True
        for e in entries:
            at = e.at[:19].replace("T", " ")
            cells = (e.seq, at, e.actor, e.event, e.source, e.batch_id, entry_summary(e))
            table.add_row(*(plain(c) for c in cells))
        console.print(table)


def print_entry_detail(console: Console, entry: AuditEntry) -> None:
    """One entry in full, its detail pretty-printed."""
    head = assemble(
        (f"seq {entry.seq}", "bold"), f"  {entry.event}  at {entry.at}  by {entry.actor}"
    )
    console.print(head, highlight=False)
    console.print(
        plain(f"source {entry.source or '-'}  batch {entry.batch_id or '-'}"), highlight=False
    )
    console.print(f"prev_hash {entry.prev_hash}\nhash      {entry.hash}", highlight=False)
    console.print(json_text(entry.detail_dict))


def print_trace(console: Console, trace: RecordTrace) -> None:
    """A record's story: loaded row, origins, quarantine entries, review actions."""
    key = ",".join(f"{k}={v}" for k, v in trace.key.items())
    if trace.line is not None:
        where = f"{trace.line[0]}:{trace.line[1]}" if trace.line[0] else f"line {trace.line[1]}"
        key = f"{where}" + (f" (key {key})" if key else "")
    console.print(plain(f"{trace.source} {key}", "bold"), highlight=False)
    for d in trace.duplicates:
        this = trace.line is not None and d["record"] == trace.line[1]
        console.print(
            assemble(
                ("duplicate", "magenta"),
                f"{' (this line)' if this else ''}: {d['location']} line "
                f"{d['record']} is an exact duplicate of line {d['first_record']} in batch "
                f"{d['batch_id']} (same key and values, row hash {str(d['row_hash'])[:19]}...); "
                "counted, not loaded",
            ),
            highlight=False,
        )
    for row in trace.loaded:
        values = {k: v for k, v in row.items() if not k.startswith("_tidegate_")}
        console.print(
            assemble(
                ("loaded", "green"),
                f" in table {trace.source}: batch {row.get('_tidegate_batch_id')}, "
                f"line {row.get('_tidegate_record')}",
            ),
            highlight=False,
        )
        console.print(plain(f"  {_text(values)}"), highlight=False)
    if not trace.loaded and trace.key:
        console.print(
            assemble(("not loaded", "yellow"), f": no row of {trace.source} has this key")
        )
    for batch_id, origin in trace.batches.items():
        console.print(
            assemble(
                ("batch", "bold"),
                f" {batch_id}: file {origin.get('location', '?')}, contract version "
                f"{origin.get('contract_version', '?')}, {origin.get('event', 'no audit entry')} "
                f"at {origin.get('at', '?')} (seq {origin.get('seq', '?')})",
            ),
            highlight=False,
        )
        counts = origin.get("normalized") or {}
        if counts:
            text = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
            console.print(plain(f"  normalizations counted in this batch: {text}"))
    for q in trace.quarantine:
        console.print(
            assemble(
                ("quarantine", "red"),
                f" #{q['id']} ({q['status']}, matched on {q['matched_on']}): "
                f"{q['location']} line {q['record']}, rules {q['rules']}",
            ),
            highlight=False,
        )
        if q["headers_renamed"]:
            text = ", ".join(f"{h!r} -> {c}" for h, c in q["headers_renamed"].items())
            console.print(plain(f"  headers: {text}"))
        for change in q["normalizations"]:
            console.print(
                plain(f"  {change['column']}: {change['raw']!r} -> {change['normalized']!r}")
            )
        if q.get("edited"):
            console.print(plain(f"  edited: {_text(q['edited'])}"))
    for e in trace.reviews:
        console.print(
            assemble(
                ("review", "bold"),
                f" seq {e.seq} {e.event} by {e.actor} at {e.at}: {entry_summary(e)}",
            ),
            highlight=False,
        )
