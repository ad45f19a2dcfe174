"""Copy a DuckDB store into an empty PostgreSQL store: how a team keeps its history
when it moves from one machine to a shared database.

Everything is copied as stored, in one PostgreSQL transaction: the audit entries in
seq order (so the chain, hashes included, is the same and the append-only triggers
accept each entry as the next link), quarantine records with their ids and versions
(the id sequence continues after the highest), checkpoints (so files and SQL windows
already committed are skipped, not loaded twice), profiles, and every target table
with its lineage columns, and the quarantine's rules side table (made from the records'
errors when the DuckDB store predates it). Tables are streamed in Arrow record batches,
so memory stays bounded by one batch. A failure leaves the PostgreSQL store as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tidegate.errors import StoreError
from tidegate.store._connect import connect, fetch_one, transaction
from tidegate.store._duckdb import DuckDBStore
from tidegate.store._location import open_store
from tidegate.store._pg_indexes import grant_writers_on, index_target_tables
from tidegate.store._pg_store import PostgresStore
from tidegate.store._pii_keys import ensure_pii_keys_table
from tidegate.store._profiles import ensure_profiles_table
from tidegate.store._quarantine_counts import COUNTS_TABLE, recount
from tidegate.store._quarantine_rules import PAIRS_TABLE, index_new_records, note_pairs
from tidegate.store._tables import OWN_TABLES, ensure_store_tables, quote_ident, store_tables

if TYPE_CHECKING:
    from tidegate.store._protocol import StoreLike

ORDER_BY = {"audit": "seq", "quarantine": "id", "quarantine_rules": "quarantine_id"}
BATCH_ROWS = 100_000


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    granted: list[str] = field(default_factory=list)  # writer grants on the copied tables


def _pg_column_type(duckdb_type: str) -> str:
    """A DuckDB column type as PostgreSQL spells it (the rest are spelled the same)."""
    upper = duckdb_type.upper()
    return {"DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL", "HUGEINT": "NUMERIC(38,0)"}.get(
        upper, upper
    )


def can_copy(source: StoreLike, target: StoreLike) -> bool:
    """Does a copy go this way: from a DuckDB file to a PostgreSQL store?"""
    return isinstance(open_store(source), DuckDBStore) and isinstance(
        open_store(target), PostgresStore
    )


def copy_store(
    source: StoreLike,
    target: StoreLike,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every table of the DuckDB store ``source`` into the empty store ``target``.

    ``progress(table, rows)`` is called after each copied slice of a table.
    """
    source, target = open_store(source), open_store(target)
    if not can_copy(source, target):
        raise StoreError(
            f"copy goes from a DuckDB file to a PostgreSQL store; got {source} -> {target}"
        )
    report = CopyReport()
    with connect(source, read_only=True) as src, transaction(target) as dst:
        tables = store_tables(src)
        if "audit" not in tables:
            raise StoreError(f"{source} holds no tidegate store (no audit table)")
        ensure_store_tables(dst)
        ensure_profiles_table(dst)
        ensure_pii_keys_table(dst)
        held = fetch_one(dst, "SELECT count(*) FROM audit")
        if held and held[0]:
            raise StoreError(
                f"{target} already holds {held[0]} audit entries; copy into an empty store "
                "(a new database or schema) so the two histories never mix"
            )
        targets = sorted(t for t in tables if t not in OWN_TABLES)
        for table in targets:
            columns = src.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = current_schema() "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            ddl = ", ".join(f"{quote_ident(c)} {_pg_column_type(t)}" for c, t in columns)
            dst.execute(f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({ddl})")
        counted = (COUNTS_TABLE, PAIRS_TABLE)  # made again from the copied rows, below
        for table in [t for t in OWN_TABLES if t in tables and t not in counted] + targets:
            report.rows[table] = _copy_table(src, dst, table, progress)
        recount(dst)  # one GROUP BY over the copied records (an older source has no counts)
        if "quarantine_rules" not in tables:  # a store made before the side table
            index_new_records(dst)
        note_pairs(dst, "true")  # the pairs the copied side rows hold
        if report.rows.get("quarantine"):
            dst.execute("SELECT setval('quarantine_id_seq', (SELECT max(id) FROM quarantine))")
        for table in ("quarantine", "quarantine_rules"):  # a planner without statistics
            dst.execute(f"ANALYZE {table}")  # would scan a large queue for every page
        # the copy made the target tables: their indexes and the writers' grants are the
        # owner's to make (a writer role can neither index nor use a table it was not given)
        index_target_tables(dst)
        report.granted = grant_writers_on(dst, targets)
    return report


def _copy_table(src: Any, dst: Any, table: str, progress: Callable[[str, int], None] | None) -> int:
    import polars as pl

    order = f" ORDER BY {ORDER_BY[table]}" if table in ORDER_BY else ""
    relation = src.sql(f"SELECT * FROM {quote_ident(table)}{order}")
    if hasattr(relation, "to_arrow_reader"):  # DuckDB 2
        reader = relation.to_arrow_reader(BATCH_ROWS)
    else:  # DuckDB 1.x
        reader = relation.record_batch(BATCH_ROWS)
    copied = 0
    for batch in reader:
        frame = pl.DataFrame(pl.from_arrow(batch))
        dst.copy_into(quote_ident(table), frame)
        copied += frame.height
        if progress is not None:
            progress(table, copied)
    return copied
