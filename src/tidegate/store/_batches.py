"""Commit one batch atomically: target rows, quarantine rows, audit entry, checkpoint.

Everything a batch writes happens in one DuckDB transaction, so a crash leaves
all of it or none of it. The batch key is ``(source, content sha256)``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileReject, RoutedBatch
from tidegate.contracts._model import Contract
from tidegate.rules import EXISTING_KEY_RULE, UNREADABLE_FILE_RULE
from tidegate.store._audit_log import append_audit, canonical_json, default_actor
from tidegate.store._connect import fetch_one, read_if_made, transaction
from tidegate.store._tables import (
    LINEAGE_BATCH,
    ensure_pg_target_indexes,
    ensure_store_tables,
    ensure_target_table,
    is_postgres_connection,
    quote_ident,
)

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one batch, as recorded in the audit entry."""

    source: str
    location: str
    batch_id: str
    event: str  # batch_committed | batch_held | batch_skipped | file_rejected
    rows_in: int = 0
    loaded: int = 0
    updated: int = 0
    quarantined: int = 0
    duplicates: int = 0
    failure_counts: dict[str, int] = field(default_factory=dict)
    normalize_counts: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    audit_seq: int = 0
    alerts: tuple[str, ...] = ()  # kinds of the monitor alerts this batch raised

    def with_alerts(self, kinds: list[str] | tuple[str, ...]) -> BatchOutcome:
        return replace(self, alerts=tuple(kinds)) if kinds else self

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "alerts": list(self.alerts)}


@dataclass(frozen=True)
class CommittedBatch:
    batch_id: str
    contract_version: int | None
    committed_at: datetime


def new_batch_id(source: str, batch_key: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{source}-{stamp}-{batch_key.split(':')[-1][:8]}-{secrets.token_hex(2)}"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def find_committed(
    con: duckdb.DuckDBPyConnection, source: str, batch_key: str
) -> CommittedBatch | None:
    row = fetch_one(
        con,
        "SELECT batch_id, contract_version, committed_at FROM checkpoints "
        "WHERE source = ? AND batch_key = ? AND status = 'committed'",
        [source, batch_key],
    )
    return CommittedBatch(*row) if row else None


def lookup_committed(store: Store, source: str, batch_key: str) -> CommittedBatch | None:
    """Has this content of this source been committed already? (one short read)"""
    with read_if_made(store) as con:
        return None if con is None else find_committed(con, source, batch_key)


def skip_detail(
    location: str, batch_key: str, earlier: CommittedBatch, contract: Contract | None
) -> dict[str, Any]:
    """The ``detail`` of a ``batch_skipped`` audit entry."""
    return {
        "location": location,
        "batch_key": batch_key,
        "committed_batch_id": earlier.batch_id,
        "committed_contract_version": earlier.contract_version,
        "current_contract_version": contract.version if contract else None,
        "reason": "content already committed; use `tidegate run --reprocess` to replace it",
    }


def skip_outcome(source: str, location: str, earlier: CommittedBatch, seq: int) -> BatchOutcome:
    """The outcome of a skipped batch whose audit entry is ``seq``."""
    return BatchOutcome(
        source=source,
        location=location,
        batch_id=earlier.batch_id,
        event="batch_skipped",
        reason=(
            f"already committed as {earlier.batch_id} under contract v{earlier.contract_version}"
        ),
        audit_seq=seq,
    )


def _audit_skip(
    con: duckdb.DuckDBPyConnection,
    source: str,
    location: str,
    batch_key: str,
    earlier: CommittedBatch,
    contract: Contract | None,
    actor: str,
) -> BatchOutcome:
    entry = append_audit(
        con,
        "batch_skipped",
        skip_detail(location, batch_key, earlier, contract),
        source=source,
        batch_id=earlier.batch_id,
        actor=actor,
    )
    return skip_outcome(source, location, earlier, entry.seq)


def record_skip(
    store: Store,
    source: str,
    location: str,
    batch_key: str,
    contract: Contract | None,
    actor: str | None = None,
) -> BatchOutcome | None:
    """Audit that this content was skipped; None if it was not committed after all."""
    with transaction(store) as con:
        ensure_store_tables(con)
        earlier = find_committed(con, source, batch_key)
        if earlier is None:
            return None
        return _audit_skip(
            con, source, location, batch_key, earlier, contract, actor or default_actor()
        )


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
    con.execute(
        "DELETE FROM quarantine WHERE batch_id = ? AND status = 'pending'", [earlier.batch_id]
    )
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
    con.register("_tg_load", rows.to_arrow())
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
        con.execute(
            "INSERT INTO quarantine (source, batch_id, location, record, raw, normalized, errors, "
            "rules, status, version, contract_version, created_at, updated_at, updated_by) "
            "SELECT ?, ?, ?, record, raw, normalized, errors, rules, 'pending', 1, ?, ?, ?, ? "
            "FROM _tg_quarantine",
            [source, batch_id, location, contract_version, now, now, actor],
        )
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
        "committed_at, cursor_column, cursor_value) "
        "VALUES (?, ?, ?, 'committed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ],
    )


def commit_batch(
    store: Store,
    routed: RoutedBatch,
    contract: Contract,
    *,
    reprocess: bool = False,
    actor: str | None = None,
    duration_ms: int | None = None,
    cursor: tuple[str, str] | None = None,
) -> BatchOutcome:
    """Write one routed batch in one transaction (or audit a skip).

    ``cursor`` is the (column, watermark) of an incremental source's window (the
    batch's ``cursor_column``/``cursor_value``); it is stored on the checkpoint in the
    same transaction, so a crash never skips or repeats a window.
    """
    actor = actor or default_actor()
    batch_key = f"sha256:{routed.content_sha256}"
    with transaction(store) as con:
        ensure_store_tables(con)
        ensure_target_table(con, contract)
        earlier = find_committed(con, routed.source, batch_key)
        replaced: dict[str, Any] = {}
        if earlier is not None:
            if not reprocess:
                return _audit_skip(
                    con, routed.source, routed.location, batch_key, earlier, contract, actor
                )
            replaced = {
                "replaced_batch_id": earlier.batch_id,
                "replaced_contract_version": earlier.contract_version,
                **_replace_earlier(con, contract, earlier),
            }
        batch_id = new_batch_id(routed.source, batch_key)
        routed, updated = apply_existing_keys(con, routed, contract)
        routed.check_conservation()
        if routed.loaded:
            insert_target_rows(
                con, contract, routed.load.with_columns(pl.lit(batch_id).alias(LINEAGE_BATCH))
            )
        _insert_quarantine(
            con,
            routed.quarantine,
            source=routed.source,
            batch_id=batch_id,
            location=routed.location,
            contract_version=contract.version,
            actor=actor,
        )
        _insert_checkpoint(
            con,
            source=routed.source,
            batch_key=batch_key,
            batch_id=batch_id,
            location=routed.location,
            contract=contract,
            counts=(routed.rows_in, routed.loaded, routed.quarantined, routed.duplicates),
            cursor=cursor,
        )
        event = (
            "batch_held"
            if routed.held
            else ("batch_reprocessed" if replaced else "batch_committed")
        )
        detail = {
            "location": routed.location,
            "batch_key": batch_key,
            "contract": {"version": contract.version, "hash": contract.content_hash},
            "rows_in": routed.rows_in,
            "loaded": routed.loaded,
            "updated": updated,
            "quarantined": routed.quarantined,
            "duplicates": routed.duplicates,
            "duplicate_records": list(routed.duplicate_records),
            "held": routed.held,
            "failures": routed.failure_counts,
            "normalized": routed.normalize_counts,
            "unknown_columns": list(routed.unknown_columns),
            "missing_columns": list(routed.missing_columns),
            "duration_ms": duration_ms,
            **({"reprocess": replaced} if replaced else {}),
            **({"cursor": {"column": cursor[0], "value": cursor[1]}} if cursor else {}),
        }
        entry = append_audit(
            con, event, detail, source=routed.source, batch_id=batch_id, actor=actor
        )
    return BatchOutcome(
        source=routed.source,
        location=routed.location,
        batch_id=batch_id,
        event=event,
        rows_in=routed.rows_in,
        loaded=routed.loaded,
        updated=updated,
        quarantined=routed.quarantined,
        duplicates=routed.duplicates,
        failure_counts=routed.failure_counts,
        normalize_counts=routed.normalize_counts,
        reason=routed.held,
        audit_seq=entry.seq,
    )


def commit_file_reject(
    store: Store,
    reject: FileReject,
    *,
    contract: Contract | None,
    reprocess: bool = False,
    actor: str | None = None,
) -> BatchOutcome:
    """One file-level quarantine entry for a file that could not be read at all."""
    actor = actor or default_actor()
    batch_key = (
        f"sha256:{reject.content_sha256}"
        if reject.content_sha256
        else f"unreadable:{reject.location}"
    )
    with transaction(store) as con:
        ensure_store_tables(con)
        earlier = find_committed(con, reject.source, batch_key)
        if earlier is not None:
            if not reprocess:
                return _audit_skip(
                    con, reject.source, reject.location, batch_key, earlier, contract, actor
                )
            con.execute(
                "DELETE FROM quarantine WHERE batch_id = ? AND status = 'pending'",
                [earlier.batch_id],
            )
            con.execute(
                "UPDATE checkpoints SET status = 'replaced' WHERE batch_id = ?", [earlier.batch_id]
            )
        batch_id = new_batch_id(reject.source, batch_key)
        raw = {"file": reject.location, "size_bytes": reject.size_bytes, "head": reject.head}
        errors = [
            {"rule": UNREADABLE_FILE_RULE, "column": None, "value": None, "message": reject.reason}
        ]
        frame = pl.DataFrame(
            {
                "record": [None],
                "raw": [canonical_json(raw)],
                "normalized": [None],
                "errors": [json.dumps(errors)],
                "rules": [UNREADABLE_FILE_RULE],
            },
            schema={
                "record": pl.Int64,
                "raw": pl.String,
                "normalized": pl.String,
                "errors": pl.String,
                "rules": pl.String,
            },
        )
        version = contract.version if contract else None
        _insert_quarantine(
            con,
            frame,
            source=reject.source,
            batch_id=batch_id,
            location=reject.location,
            contract_version=version,
            actor=actor,
        )
        _insert_checkpoint(
            con,
            source=reject.source,
            batch_key=batch_key,
            batch_id=batch_id,
            location=reject.location,
            contract=contract,
            counts=(None, 0, 1, 0),
        )
        entry = append_audit(
            con,
            "file_rejected",
            {
                "location": reject.location,
                "batch_key": batch_key,
                "reason": reject.reason,
                "size_bytes": reject.size_bytes,
                "contract_version": version,
            },
            source=reject.source,
            batch_id=batch_id,
            actor=actor,
        )
    return BatchOutcome(
        source=reject.source,
        location=reject.location,
        batch_id=batch_id,
        event="file_rejected",
        quarantined=1,
        failure_counts={UNREADABLE_FILE_RULE: 1},
        reason=reject.reason,
        audit_seq=entry.seq,
    )


def record_source_failure(
    store: Store, source: str, reason: str, *, actor: str | None = None
) -> None:
    """Audit that a source gave up after its retries (nothing of the run was loaded)."""
    with transaction(store) as con:
        ensure_store_tables(con)
        append_audit(con, "source_failed", {"reason": reason}, source=source, actor=actor)
