"""Tables whose ids are never cut: the record id, seq and batch id every other command
takes stay whole at any terminal width from 80 columns up; the other columns share what
is left, each cut with an ellipsis, and the least useful are dropped first when even
their floors do not fit (`quarantine list`, `audit list`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

GAP = 3  # between two columns: a space of padding on each side of the blank divider


@dataclass(frozen=True)
class Col:
    """A column: ``floor`` None keeps it whole (an id); else it may shrink to ``floor``
    characters, and ``drop`` orders which go first on a narrow terminal (1 first)."""

    name: str
    floor: int | None = None
    drop: int = 0


def _share(available: int, wants: dict[str, int], columns: Sequence[Col]) -> dict[str, int]:
    """Widths for the columns that may shrink, within ``available``: drop columns in
    ``drop`` order while even their floors do not fit, then each gets up to its floor,
    then up to what its longest cell needs: first the columns never dropped, then the
    others, the last to be dropped first."""
    floors = {c.name: min(wants[c.name], c.floor or 0) for c in columns}
    kept = [c.name for c in columns]
    for column in sorted((c for c in columns if c.drop), key=lambda c: c.drop):
        if sum(floors[n] + GAP for n in kept) <= available:
            break
        kept.remove(column.name)
    widths = {name: floors[name] for name in kept}
    left = available - sum(w + GAP for w in widths.values())
    never_dropped_first = sorted(columns, key=lambda c: -c.drop if c.drop else -(10**6))
    for name in (c.name for c in never_dropped_first if c.name in widths):
        extra = max(0, min(wants[name] - widths[name], left))
        widths[name] += extra
        left -= extra
    return widths


def print_id_table(
    console: Console, columns: Sequence[Col], rows: Sequence[Mapping[str, str]]
) -> None:
    """``rows`` (column name to cell text, from data: shown as plain text with its
    control characters made visible) as a table at the console's width."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tidegate._safe_text import visible

    rows = [{name: visible(text) for name, text in row.items()} for row in rows]
    wants = {c.name: max([len(c.name), *(len(row[c.name]) for row in rows)]) for c in columns}
    whole = [c for c in columns if c.floor is None]
    available = console.width - sum(wants[c.name] + GAP for c in whole) + GAP
    widths = _share(available, wants, [c for c in columns if c.floor is not None])
    shown = [c for c in columns if c.floor is None or c.name in widths]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for c in shown:
        if c.floor is None:
            table.add_column(c.name, no_wrap=True, min_width=wants[c.name])
        else:
            table.add_column(c.name, no_wrap=True, overflow="ellipsis", max_width=widths[c.name])
    for row in rows:
        table.add_row(*(Text(row[c.name]) for c in shown))
    console.print(table)
