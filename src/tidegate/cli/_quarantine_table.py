"""The table of `tidegate quarantine list`: record and batch ids whole at any width (see
:mod:`tidegate.cli._id_table`), the rest shrinks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.cli._id_table import Col, print_id_table

if TYPE_CHECKING:
    from rich.console import Console

    from tidegate.store._quarantine import QuarantineRecord

ERROR_CHARS = 48
COLUMNS = (
    Col("id"),
    Col("source", floor=6, drop=2),
    Col("batch"),
    Col("status"),
    Col("file:line", floor=10, drop=4),
    Col("rules", floor=8, drop=3),
    Col("first error", floor=12),
    Col("by", floor=4, drop=1),
)


def first_message(record: QuarantineRecord) -> str:
    """The record's first error, with how many more there are."""
    if not record.errors:
        return ""
    e = record.errors[0]
    more = f" (+{len(record.errors) - 1})" if len(record.errors) > 1 else ""
    column = f"{e['column']}: " if e.get("column") else ""
    return f"{column}{e['message']}{more}"


def print_records(
    console: Console,
    records: Sequence[QuarantineRecord],
    batch_labels: dict[str, str],
    *,
    with_source: bool,
) -> None:
    """The page as a table at the console's width; ``batch_labels`` maps each batch id to
    the form shown (see :func:`tidegate.store._batch_ids.short_batch_ids`)."""
    rows = [
        {
            "id": str(r.id),
            "source": r.source,
            "batch": batch_labels.get(r.batch_id, r.batch_id),
            "status": r.status,
            "file:line": f"{Path(r.location or '?').name}:"
            f"{r.record if r.record is not None else 'file'}",
            "rules": ",".join(r.rules),
            "first error": first_message(r)[:ERROR_CHARS],
            "by": r.updated_by,
        }
        for r in records
    ]
    columns = [c for c in COLUMNS if with_source or c.name != "source"]
    print_id_table(console, columns, rows)
