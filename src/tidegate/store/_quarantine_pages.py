"""A page of the quarantine queue and its capped count, read so that neither costs more
than the page at any depth, on both stores.

PostgreSQL: one statement, the keyset bound said inside every side-table lookup too
(:meth:`QuarantineFilter.where`), so the planner walks its ``(rule, quarantine_id)`` /
``("column", quarantine_id)`` indexes and the primary key together from the bound (a
merge join that stops at the page) instead of from the first id.

DuckDB has no such plan: a side-table lookup is a hash join that reads every matching
side row before the first page row comes out (a column that fails in every record: a
million of them). So DuckDB reads in windows of ids, the first about one row group
wide (the table is in id order: its zone maps skip the rest), each next one four
times wider, until the page (or the count's cap) is full. A filter that matches
densely is answered from the first window; one that matches nothing reads the table
once, as a single statement would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tidegate.store._connect import fetch_one

if TYPE_CHECKING:
    from tidegate.store._quarantine import QuarantineFilter

FIRST_WINDOW = 131_072  # ids; about one DuckDB row group (122,880 rows)
GROWTH = 4


def id_windows(con: Any, after: int | None) -> Iterator[tuple[int, int]]:
    """(above, upto) windows of ids after ``after`` up to the highest id (DuckDB)."""
    row = fetch_one(con, "SELECT min(id), max(id) FROM quarantine")
    if row is None or row[1] is None:
        return
    low, top = int(row[0]) - 1, int(row[1])
    lo = max(after, low) if after is not None else low
    width = FIRST_WINDOW
    while lo < top:
        hi = min(lo + width, top)
        yield lo, hi
        lo, width = hi, width * GROWTH


def page_ids(
    con: Any,
    flt: QuarantineFilter,
    dialect: str,
    indexed: bool,
    *,
    limit: int,
    offset: int = 0,
    after: int | None = None,
) -> list[int]:
    """The ids of one page: ``limit`` matches after ``offset`` matches (above ``after``)."""
    if limit <= 0:
        return []
    if dialect == "postgres":
        where, params = flt.where(dialect, indexed=indexed, above=after)
        sql = f"SELECT id FROM quarantine {where} ORDER BY id LIMIT ? OFFSET ?"
        return [int(r[0]) for r in con.execute(sql, [*params, limit, offset]).fetchall()]
    ids: list[int] = []
    skip = offset
    for lo, hi in id_windows(con, after):
        where, params = flt.where(dialect, indexed=indexed, above=lo, upto=hi)
        if skip:  # a deep offset: count whole windows before the one the page starts in
            row = fetch_one(con, f"SELECT count(*) FROM quarantine {where}", params)
            n = int(row[0]) if row else 0
            if n <= skip:
                skip -= n
                continue
        sql = f"SELECT id FROM quarantine {where} ORDER BY id LIMIT ? OFFSET ?"
        ids += [int(r[0]) for r in con.execute(sql, [*params, limit - len(ids), skip]).fetchall()]
        skip = 0
        if len(ids) >= limit:
            break
    return ids


def count_matches(
    con: Any,
    flt: QuarantineFilter,
    dialect: str,
    indexed: bool,
    *,
    cap: int | None = None,
    after: int | None = None,
) -> int:
    """How many records above ``after`` match, counting no further than ``cap`` + 1."""
    if cap is None:
        where, params = flt.where(dialect, indexed=indexed, above=after)
        row = fetch_one(con, f"SELECT count(*) FROM quarantine {where}", params)
        return int(row[0]) if row else 0
    windows: Iterator[tuple[int | None, int | None]] = (
        iter([(after, None)]) if dialect == "postgres" else id_windows(con, after)
    )
    total = 0
    for lo, hi in windows:
        where, params = flt.where(dialect, indexed=indexed, above=lo, upto=hi)
        row = fetch_one(
            con,
            f"SELECT count(*) FROM (SELECT 1 FROM quarantine {where} LIMIT ?) c",
            [*params, cap + 1 - total],
        )
        total += int(row[0]) if row else 0
        if total > cap:
            break
    return total
