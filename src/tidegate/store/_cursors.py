"""Cursor watermarks of incremental sources, stored on the checkpoint of each committed batch.

A SQL source reads rows with ``cursor > last_cursor(store, source)``. The new watermark is
written by ``commit_batch`` on the batch's checkpoint row, in the batch's own transaction,
so a crash between read and commit re-reads the same window and a committed window is
never read again.

The window's watermark travels on the batch (``RawBatch.cursor_column``/``cursor_value``)
and the flow passes it to ``commit_batch(cursor=...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.store._connect import fetch_one, transaction
from tidegate.store._tables import ensure_store_tables

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._location import Store


def find_last_cursor(
    con: duckdb.DuckDBPyConnection, source: str, column: str | None = None
) -> str | None:
    sql = (
        "SELECT cursor_value FROM checkpoints WHERE source = ? AND status = 'committed' "
        "AND cursor_value IS NOT NULL"
    )
    params: list[object] = [source]
    if column is not None:
        sql += " AND cursor_column = ?"
        params.append(column)
    # the insertion order breaks a tie in committed_at (DuckDB: rowid; PostgreSQL: ctid
    # is not an insertion order, and microsecond timestamps do not tie in practice)
    tie = "" if getattr(con, "dialect", "duckdb") == "postgres" else ", rowid DESC"
    row = fetch_one(con, sql + f" ORDER BY committed_at DESC{tie} LIMIT 1", params)
    return None if row is None else str(row[0])


def last_cursor(store: Store, source: str, column: str | None = None) -> str | None:
    """The last committed watermark of ``source`` (on ``column`` if given), or None."""
    if not store.exists():
        return None
    with transaction(store) as con:
        ensure_store_tables(con)
        return find_last_cursor(con, source, column)
