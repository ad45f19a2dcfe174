"""The rows a batch writes inside its commit's transaction: target, quarantine, checkpoint.

Each writer takes the open connection of a transaction (:func:`tidegate.store.transaction`)
and never commits: :mod:`tidegate.store._batches` and the review's replay call them so
that a batch's rows, its quarantine rows, its checkpoint and its audit entry land
together or not at all. :func:`utc_now` is the naive UTC time those rows are stamped with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, RoutedBatch
from tidegate.batches._read_options import current_read_options, options_hash, options_json
from tidegate.contracts._model import Contract
from tidegate.rules import EXISTING_KEY_RULE
from tidegate.store._committed import CommittedBatch
from tidegate.store._connect import fetch_one
from tidegate.store._quarantine_counts import count_inserted, last_id
from tidegate.store._quarantine_rules import delete_pending_of_batch, index_new_records
from tidegate.store._tables import (
    LINEAGE_BATCH,
    ensure_pg_target_indexes,
    is_postgres_connection,
    quote_ident,
)

if TYPE_CHECKING:
    import duckdb


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def arrow_view(frame: pl.DataFrame) -> Any:
    """A frame as the Arrow table DuckDB reads it from (``register``) without a copy: its
    strings stay views (the default export copies every string column into Arrow's
    large_string)."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


def _replace_earlier(
    con: duckdb.DuckDBPyConnection, contract: Contract, earlier: CommittedBatch
) -> dict[str, int]:
    table = quote_ident(contract.target_table)
    removed_rows = fetch_one(
        con, f"SELECT count(*) FROM {table} WHERE {LINEAGE_BATCH} = ?", [earlier.batch_id]
    )
    con.execute(f"DELETE FROM {table} WHERE {LINEAGE_BATCH} = ?", [earlier.batch_id])
    removed_q = fetch_one(
        con,
        "SELECT count(*) FROM quarantine WHERE batch_id = ? AND status = 'pending'",
        [earlier.batch_id],
    )
    delete_pending_of_batch(con, earlier.batch_id)
    con.execute("UPDATE checkpoints SET status = 'replaced' WHERE batch_id = ?", [earlier.batch_id])
    return {
        "removed_loaded": int(removed_rows[0]) if removed_rows else 0,
        "removed_pending_quarantine": int(removed_q[0]) if removed_q else 0,
    }


def insert_target_rows(
    con: duckdb.DuckDBPyConnection, contract: Contract, rows: pl.DataFrame
) -> None:
    """Insert typed rows that carry the lineage columns (batch id and record)."""
    table = quote_ident(contract.target_table)
    names = (*contract.column_names, LINEAGE_BATCH, RECORD_COLUMN)
    if is_postgres_connection(con):  # straight into the table, no staging copy
        con.copy_into(table, rows.select(names))  # type: ignore[attr-defined]
        ensure_pg_target_indexes(con, contract)
        return
    cols = ", ".join(quote_ident(c) for c in names)
    con.register("_tg_load", arrow_view(rows))
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _tg_load")
    finally:
        con.unregister("_tg_load")


def apply_existing_keys(
    con: duckdb.DuckDBPyConnection, routed: RoutedBatch, contract: Contract
) -> tuple[RoutedBatch, int]:
    """Apply on_existing_key to rows whose key is already in the target.

    Returns the (possibly re-routed) batch and how many target rows were updated.
    """
    key = contract.primary_key
    if not key or routed.load.is_empty():
        return routed, 0
    table = quote_ident(contract.target_table)
    keys = routed.load.select(*key, RECORD_COLUMN)
    con.register("_tg_keys", keys.to_arrow())
    try:
        on = " AND ".join(f"t.{quote_ident(k)} = k.{quote_ident(k)}" for k in key)
        hits = [
            int(r[0])
            for r in con.execute(
                f"SELECT k.{RECORD_COLUMN} FROM _tg_keys k WHERE EXISTS "
                f"(SELECT 1 FROM {table} t WHERE {on})"
            ).fetchall()
        ]
        if not hits:
            return routed, 0
        if contract.policy.on_existing_key == "quarantine":
            message = "key already loaded by an earlier batch and on_existing_key is quarantine"
            return routed.move_to_quarantine(hits, EXISTING_KEY_RULE, message), 0
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM _tg_keys k WHERE {on})")
        return routed, len(hits)
    finally:
        con.unregister("_tg_keys")


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    source: str,
    batch_id: str,
    location: str,
    contract_version: int | None,
    actor: str,
) -> None:
    if frame.is_empty():
        return
    con.register("_tg_quarantine", frame.to_arrow())
    try:
        now = utc_now()
        above = last_id(con)
        con.execute(
            "INSERT INTO quarantine (source, batch_id, location, record, raw, normalized, errors, "
            "rules, status, version, contract_version, created_at, updated_at, updated_by) "
            "SELECT ?, ?, ?, record, raw, normalized, errors, rules, 'pending', 1, ?, ?, ?, ? "
            "FROM _tg_quarantine",
            [source, batch_id, location, contract_version, now, now, actor],
        )
        index_new_records(con)
        count_inserted(con, batch_id, above)
    finally:
        con.unregister("_tg_quarantine")


def _insert_checkpoint(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    batch_key: str,
    batch_id: str,
    location: str,
    contract: Contract | None,
    counts: tuple[int | None, int, int, int],
    cursor: tuple[str, str] | None = None,
) -> None:
    con.execute(
        "INSERT INTO checkpoints (source, batch_key, batch_id, status, location, "
        "contract_version, contract_hash, rows_in, loaded, quarantined, duplicates, "
        "committed_at, cursor_column, cursor_value, source_options, source_options_hash) "
        "VALUES (?, ?, ?, 'committed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source,
            batch_key,
            batch_id,
            location,
            contract.version if contract else None,
            contract.content_hash if contract else None,
            *counts,
            utc_now(),
            cursor[0] if cursor else None,
            cursor[1] if cursor else None,
            options_json(current_read_options()),
            options_hash(current_read_options()),
        ],
    )
