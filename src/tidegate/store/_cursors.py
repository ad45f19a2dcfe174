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

from tidegate.store._connect import fetch_one, read_if_made
from tidegate.store._tables import is_postgres_connection

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store


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
    tie = "" if is_postgres_connection(con) else ", rowid DESC"
    row = fetch_one(con, sql + f" ORDER BY committed_at DESC{tie} LIMIT 1", params)
    return None if row is None else str(row[0])


def last_cursor(store: Store, source: str, column: str | None = None) -> str | None:
    """The last committed watermark of ``source`` (on ``column`` if given), or None."""
    with read_if_made(store) as con:
        return None if con is None else find_last_cursor(con, source, column)
