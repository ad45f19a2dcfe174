"""The table of `tidegate audit list`: seq and batch ids whole at any width (see
:mod:`tidegate.cli._id_table`), the rest shrinks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tidegate.cli._id_table import Col, print_id_table

if TYPE_CHECKING:
    from rich.console import Console

    from tidegate.store import AuditEntry

COLUMNS = (
    Col("seq"),
    Col("at (UTC)", floor=19, drop=2),
    Col("actor", floor=6, drop=1),
    Col("event", floor=14),
    Col("source", floor=6, drop=3),
    Col("batch"),
    Col("summary", floor=12),
)


def print_audit_entries(
    console: Console, entries: Sequence[AuditEntry], batch_labels: dict[str, str]
) -> None:
    """A page of entries as a table at the console's width; ``batch_labels`` maps each
    batch id to the form shown (see :func:`tidegate.store._batch_ids.short_batch_ids`)."""
    from tidegate.audit._query import entry_summary

    rows = [
        {
            "seq": str(e.seq),
            "at (UTC)": e.at[:19].replace("T", " "),
            "actor": e.actor,
            "event": e.event,
            "source": e.source or "",
            "batch": batch_labels.get(e.batch_id, e.batch_id) if e.batch_id else "",
            "summary": entry_summary(e),
        }
        for e in entries
    ]
    print_id_table(console, COLUMNS, rows)
