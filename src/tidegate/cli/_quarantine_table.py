"""The table of `tidegate quarantine list`: ids whole at any width, the rest shrinks.

The record id and the batch id are what every other command takes, so they are never
cut or wrapped, from 80 columns up: the columns they leave are shared out among the
others (source, file:line, rules, first error, by), each cut with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from tidegate.store._quarantine import QuarantineRecord

# each flexible column's share floor: it gets at least this much before any gets more
_FLOORS = {"source": 6, "file:line": 10, "rules": 8, "first error": 12, "by": 4}
# the flexible columns a narrow terminal drops first, to keep the ids whole
_DROP_FIRST = ("by", "source", "rules", "file:line")
_ERROR_CHARS = 48
_GAP = 3  # between two columns: a space of padding on each side of the blank divider


def first_message(record: QuarantineRecord) -> str:
    if not record.errors:
        return ""
    e = record.errors[0]
    more = f" (+{len(record.errors) - 1})" if len(record.errors) > 1 else ""
    column = f"{e['column']}: " if e.get("column") else ""
    return f"{column}{e['message']}{more}"


def _share(available: int, wants: dict[str, int]) -> dict[str, int]:
    """Widths for the flexible columns within ``available`` (each column costs its width
    plus the 3 between columns): drop columns in :data:`_DROP_FIRST` order while even
    their floors do not fit, then each gets up to its floor, then, in column order, up
    to what its longest cell needs."""
    kept = dict(wants)
    floors = {name: min(want, _FLOORS[name]) for name, want in kept.items()}
    for name in _DROP_FIRST:
        if sum(floors[n] + _GAP for n in kept) <= available:
            break
        kept.pop(name, None)
    widths = {name: floors[name] for name in kept}
    left = available - sum(w + _GAP for w in widths.values())
    for name, want in kept.items():
        extra = max(0, min(want - widths[name], left))
        widths[name] += extra
        left -= extra
    return widths


def print_records(
    console: Console,
    records: Sequence[QuarantineRecord],
    batch_labels: dict[str, str],
    *,
    with_source: bool,
) -> None:
    """The page as a table at the console's width; ``batch_labels`` maps each batch id to
    the form shown (see :func:`tidegate.store._batch_ids.short_batch_ids`)."""
    from rich import box
    from rich.table import Table

    rows = []
    for r in records:
        line = r.record if r.record is not None else "file"
        rows.append(
            {
                "id": str(r.id),
                "batch": batch_labels.get(r.batch_id, r.batch_id),
                "status": r.status,
                "source": r.source,
                "file:line": f"{Path(r.location or '?').name}:{line}",
                "rules": ",".join(r.rules),
                "first error": first_message(r)[:_ERROR_CHARS],
                "by": r.updated_by,
            }
        )
    fixed = ("id", "batch", "status")
    flexible = [name for name in _FLOORS if with_source or name != "source"]

    def want(name: str) -> int:
        return max([len(name), *(len(row[name]) for row in rows)])

    available = console.width - sum(want(n) + _GAP for n in fixed) + _GAP
    widths = _share(available, {n: want(n) for n in flexible})
    order = ("id", "source", "batch", "status", "file:line", "rules", "first error", "by")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    names = [n for n in order if n in fixed or n in widths]
    for name in names:
        if name in fixed:
            table.add_column(name, no_wrap=True, min_width=want(name))
        else:
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=widths[name])
    for row in rows:
        table.add_row(*(row[n] for n in names))
    console.print(table)
