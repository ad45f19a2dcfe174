"""Commit one batch atomically: target rows, quarantine rows, audit entry, checkpoint.

Everything a batch writes happens in one DuckDB transaction, so a crash leaves
all of it or none of it. The batch key is ``(source, content sha256)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import FileReject, RoutedBatch
from tidegate.batches._routed import check_conservation
from tidegate.contracts._model import Contract
from tidegate.rules import UNREADABLE_FILE_RULE
from tidegate.store._audit_log import append_audit, canonical_json, default_actor
from tidegate.store._committed import (
    BatchOutcome,
    _audit_skip,
    batch_key_of,
    find_committed,
    new_batch_id,
)
from tidegate.store._connect import transaction
from tidegate.store._contract_versions import record_contract_version, unbumped_warning
from tidegate.store._duplicates import insert_duplicates
from tidegate.store._quarantine_rules import delete_pending_of_batch
from tidegate.store._row_writes import (
    _insert_checkpoint,
    _insert_quarantine,
    _replace_earlier,
    apply_existing_keys,
    insert_target_rows,
)
from tidegate.store._tables import LINEAGE_BATCH, ensure_store_tables, ensure_target_table

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store


def commit_batch(
    store: Store,
    routed: RoutedBatch,
    contract: Contract,
    *,
    reprocess: bool = False,
    actor: str | None = None,
    duration_ms: int | None = None,
    cursor: tuple[str, str] | None = None,
    lines: dict[str, int] | None = None,
) -> BatchOutcome:
    """Write one routed batch in one transaction (or audit a skip).

    ``cursor`` is the (column, watermark) of an incremental source's window (the
    batch's ``cursor_column``/``cursor_value``); it is stored on the checkpoint in the
    same transaction, so a crash never skips or repeats a window. ``lines`` are a
    file's line figures (:class:`tidegate.batches.LineCounts`) for the audit entry.
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
        insert_duplicates(
            con,
            routed.duplicate_rows,
            source=routed.source,
            batch_id=batch_id,
            location=routed.location,
        )
        figures = BatchFigures(
            source=routed.source,
            location=routed.location,
            batch_key=batch_key,
            rows_in=routed.rows_in,
            loaded=routed.loaded,
            updated=updated,
            quarantined=routed.quarantined,
            duplicates=routed.duplicates,
            duplicate_records=routed.duplicate_records,
            held=routed.held,
            failure_counts=routed.failure_counts,
            normalize_counts=routed.normalize_counts,
            unknown_columns=routed.unknown_columns,
            missing_columns=routed.missing_columns,
            header_finding=routed.header_finding,
            duration_ms=duration_ms,
            replaced=replaced,
            cursor=cursor,
            lines=lines,
            expectations=routed.expectations,
            warnings=routed.warnings,
            shadow=routed.shadow,
        )
        return record_commit(con, figures, contract, batch_id, actor)


@dataclass(frozen=True)
class BatchFigures:
    """What a committed batch's checkpoint and audit entry record (see :func:`record_commit`)."""

    source: str
    location: str
    batch_key: str
    rows_in: int
    loaded: int
    updated: int
    quarantined: int
    duplicates: int
    duplicate_records: tuple[int, ...] = ()
    held: str | None = None
    failure_counts: dict[str, int] = field(default_factory=dict)
    normalize_counts: dict[str, int] = field(default_factory=dict)
    unknown_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    header_finding: str | None = None  # missing/unknown columns and the fixing rename
    duration_ms: int | None = None
    replaced: dict[str, Any] = field(default_factory=dict)
    cursor: tuple[str, str] | None = None
    chunks: int | None = None  # how many chunks a file was read in (a streamed batch)
    lines: dict[str, int] | None = None  # how a file's physical lines were used (CSV)
    expectations: dict[str, Any] | None = None  # the suite's validation summary
    warnings: tuple[str, ...] = ()  # a failed batch expectation under on_batch_failure: warn
    shadow: dict[str, Any] | None = None  # a shadowed candidate's verdict (detail["shadow"])

    def check_conservation(self) -> None:
        check_conservation(
            self.source, self.location, self.rows_in, self.loaded, self.quarantined, self.duplicates
        )


def record_commit(
    con: duckdb.DuckDBPyConnection,
    figures: BatchFigures,
    contract: Contract,
    batch_id: str,
    actor: str,
) -> BatchOutcome:
    """The checkpoint and the audit entry of a batch whose rows are written, in the same
    transaction; the batch's outcome."""
    f = figures
    f.check_conservation()
    _insert_checkpoint(
        con,
        source=f.source,
        batch_key=f.batch_key,
        batch_id=batch_id,
        location=f.location,
        contract=contract,
        counts=(f.rows_in, f.loaded, f.quarantined, f.duplicates),
        cursor=f.cursor,
    )
    event = "batch_held" if f.held else ("batch_reprocessed" if f.replaced else "batch_committed")
    unbumped = record_contract_version(con, contract, batch_id)
    warnings = f.warnings
    if unbumped is not None:
        warnings += (unbumped_warning(contract, unbumped["previous_hash"]),)
    detail = {
        "location": f.location,
        "batch_key": f.batch_key,
        "contract": {"version": contract.version, "hash": contract.content_hash},
        "rows_in": f.rows_in,
        "loaded": f.loaded,
        "updated": f.updated,
        "quarantined": f.quarantined,
        "duplicates": f.duplicates,
        "duplicate_records": list(f.duplicate_records),
        "held": f.held,
        "failures": f.failure_counts,
        "normalized": f.normalize_counts,
        "unknown_columns": list(f.unknown_columns),
        "missing_columns": list(f.missing_columns),
        **({"headers": f.header_finding} if f.header_finding else {}),
        "duration_ms": f.duration_ms,
        **({"chunks": f.chunks} if f.chunks is not None else {}),
        **({"lines": f.lines} if f.lines is not None else {}),
        **({"reprocess": f.replaced} if f.replaced else {}),
        **({"cursor": {"column": f.cursor[0], "value": f.cursor[1]}} if f.cursor else {}),
        **({"expectations": f.expectations} if f.expectations is not None else {}),
        **({"warnings": list(f.warnings)} if f.warnings else {}),
        **({"contract_changed_without_bump": unbumped} if unbumped else {}),
        **({"shadow": f.shadow} if f.shadow is not None else {}),
    }
    entry = append_audit(con, event, detail, source=f.source, batch_id=batch_id, actor=actor)
    return BatchOutcome(
        source=f.source,
        location=f.location,
        batch_id=batch_id,
        event=event,
        rows_in=f.rows_in,
        loaded=f.loaded,
        updated=f.updated,
        quarantined=f.quarantined,
        duplicates=f.duplicates,
        failure_counts=f.failure_counts,
        normalize_counts=f.normalize_counts,
        reason=f.held,
        headers=f.header_finding,
        audit_seq=entry.seq,
        warnings=warnings,
        shadow=f.shadow,
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
    batch_key = batch_key_of(reject)
    with transaction(store) as con:
        ensure_store_tables(con)
        earlier = find_committed(con, reject.source, batch_key)
        if earlier is not None:
            if not reprocess:
                return _audit_skip(
                    con, reject.source, reject.location, batch_key, earlier, contract, actor
                )
            delete_pending_of_batch(con, earlier.batch_id)
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
