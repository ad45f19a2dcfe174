"""The ``duplicates`` table: every exact duplicate of every batch, one row each.

A batch's audit entry counts its duplicates (and names the first 100 records); this
table holds all of them, written in the batch's own commit transaction by both commit
paths (a batch in one piece, :mod:`tidegate.store._batches`; a file read in chunks, at
its publication, :mod:`tidegate.store._staging`): the batch, the file, the record (line
or offset) that repeats, the first record with the same key and values, the key and a
hash of the row's values. `tidegate audit trace` reads it; `tidegate audit sql` can
query it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidegate.store._tables import is_postgres_connection

if TYPE_CHECKING:
    import duckdb
    import polars as pl

DUPLICATES_DDL = """
CREATE TABLE IF NOT EXISTS duplicates (
    source VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    location VARCHAR,
    record BIGINT NOT NULL,
    first_record BIGINT NOT NULL,
    key_values VARCHAR,
    row_hash VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
"""
DUPLICATES_INDEX_DDL = (
    "CREATE INDEX IF NOT EXISTS duplicates_batch_record ON duplicates (batch_id, record)"
)
DUPLICATE_COLUMNS = (
    "source, batch_id, location, record, first_record, key_values, row_hash, created_at"
)


def ensure_duplicates_table(con: duckdb.DuckDBPyConnection) -> None:
    """Make the table unless it is there (a store made before it existed gets it here)."""
    if not is_postgres_connection(con):
        con.execute(DUPLICATES_DDL)
        return
    made = con.execute("SELECT to_regclass('duplicates') IS NOT NULL").fetchall()
    if not (made and made[0][0]):
        con.execute(DUPLICATES_DDL)
        con.execute(DUPLICATES_INDEX_DDL)


def insert_duplicates(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    source: str,
    batch_id: str,
    location: str,
) -> int:
    """Write a batch's duplicates (record, first_record, key_values, row_hash) inside the
    caller's transaction; how many."""
    import polars as pl  # here: readers of the table (`audit trace`) need no polars

    from tidegate.store._row_writes import utc_now

    if frame.is_empty():
        return 0
    rows = frame.select("record", "first_record", "key_values", "row_hash").with_columns(
        pl.lit(source).alias("source"),
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(location).alias("location"),
        pl.lit(utc_now()).alias("created_at"),
    )
    rows = rows.select([c.strip() for c in DUPLICATE_COLUMNS.split(",")])
    if is_postgres_connection(con):
        con.copy_into("duplicates", rows)  # type: ignore[attr-defined]
        return rows.height
    con.register("_tg_duplicates", rows.to_arrow())
    try:
        con.execute(
            f"INSERT INTO duplicates ({DUPLICATE_COLUMNS}) "
            f"SELECT {DUPLICATE_COLUMNS} FROM _tg_duplicates"
        )
    finally:
        con.unregister("_tg_duplicates")
    return rows.height


def _dicts(result: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def duplicates_of_record(
    con: duckdb.DuckDBPyConnection, source: str, record: int, location: str | None = None
) -> list[dict[str, Any]]:
    """The duplicates rows of one record of ``source`` (optionally of one file: its path
    or a path ending in it), oldest batch first."""
    sql = f"SELECT {DUPLICATE_COLUMNS} FROM duplicates WHERE source = ? AND record = ?"
    params: list[Any] = [source, record]
    if location is not None:
        sql += " AND (location = ? OR location LIKE ?)"
        params += [location, "%/" + location.lstrip("/")]
    return _dicts(con.execute(sql + " ORDER BY created_at, batch_id", params))


def duplicates_of_key(
    con: duckdb.DuckDBPyConnection, source: str, key_values: str
) -> list[dict[str, Any]]:
    """The duplicates rows of one key of ``source`` (``key_values`` as the table holds it)."""
    return _dicts(
        con.execute(
            f"SELECT {DUPLICATE_COLUMNS} FROM duplicates WHERE source = ? AND key_values = ? "
            "ORDER BY created_at, batch_id, record",
            [source, key_values],
        )
    )
