"""The quarantine lifecycle: edit, replay, reject. Every action is an audit event.

A record is ``pending`` until a reviewer acts. An edit is stored beside the raw
record (which never changes). A replay re-normalizes and re-validates the record,
with its edits, under the source's current contract: a record that now passes
loads into the target table exactly once, in one transaction with its status
change and its audit entry; one that still fails stays pending with its new
reasons. A reject needs a reason. Each action checks the record's ``version``
(optimistic concurrency): if another reviewer changed it first, the action
fails with :class:`ConflictError` and nothing is lost.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tidegate.contracts import Contract
from tidegate.errors import ConflictError, ReviewError
from tidegate.normalize import normalize
from tidegate.normalize._headers import match_headers
from tidegate.review._contracts import contract_for
from tidegate.route import route
from tidegate.sources import RECORD_COLUMN, RawBatch
from tidegate.store import default_actor, transaction
from tidegate.store._audit_log import append_audit_many, canonical_json
from tidegate.store._batches import apply_existing_keys, insert_target_rows, utc_now
from tidegate.store._connect import fetch_one
from tidegate.store._quarantine import QuarantineRecord, get_records
from tidegate.store._tables import LINEAGE_BATCH, ensure_store_tables, ensure_target_table
from tidegate.validate import validate

FILE_RULE = "_file.unreadable"


@dataclass
class ReplaySummary:
    loaded: int = 0
    still_failing: int = 0
    skipped: int = 0  # not pending (already replayed or rejected)
    conflicts: list[int] = field(default_factory=list, repr=False)
    loaded_ids: list[int] = field(default_factory=list, repr=False)
    failing_ids: list[int] = field(default_factory=list, repr=False)
    not_replayable: list[int] = field(default_factory=list, repr=False)  # file-level entries

    def merge(self, other: ReplaySummary) -> None:
        self.loaded += other.loaded
        self.still_failing += other.still_failing
        self.skipped += other.skipped
        for name in ("conflicts", "loaded_ids", "failing_ids", "not_replayable"):
            getattr(self, name).extend(getattr(other, name))


def _require(store: Path, ids: Sequence[int]) -> list[QuarantineRecord]:
    records = get_records(store, list(ids))
    missing = sorted(set(ids) - {r.id for r in records})
    if missing:
        raise ReviewError(
            f"no quarantine record with id {', '.join(map(str, missing))}; "
            "see `tidegate quarantine list`"
        )
    return records


def _conflict(con: Any, record_id: int, expected: int) -> ConflictError:
    row = fetch_one(
        con, "SELECT version, status, updated_by FROM quarantine WHERE id = ?", [record_id]
    )
    if row is None:
        return ConflictError(record_id, expected, -1, "deleted", "a reprocess of its batch")
    return ConflictError(record_id, expected, row[0], row[1], row[2])


Claim = tuple[int, int, dict[str, Any]]  # (record id, expected version, column -> new value)


def _claim(con: Any, claims: list[Claim], actor: str) -> None:
    """Update pending records whose version is still the expected one, in one statement.

    If any record was changed meanwhile (or is no longer pending), raise ConflictError
    naming it; the caller's transaction then rolls back every update.
    """
    if not claims:
        return
    keys = list(claims[0][2])
    frame = pl.DataFrame(
        {
            "id": [c[0] for c in claims],
            "expected": [c[1] for c in claims],
            **{k: [c[2][k] for c in claims] for k in keys},
        },
        schema={"id": pl.Int64, "expected": pl.Int64, **{k: pl.String for k in keys}},
    )
    assignments = ", ".join(f"{k} = c.{k}" for k in keys)
    con.register("_tg_claims", frame.to_arrow())
    try:
        updated = con.execute(
            f"UPDATE quarantine SET {assignments}, version = quarantine.version + 1, "
            "updated_at = ?, updated_by = ? FROM _tg_claims c WHERE quarantine.id = c.id "
            "AND quarantine.version = c.expected AND quarantine.status = 'pending' "
            "RETURNING quarantine.id",
            [utc_now(), actor],
        ).fetchall()
    finally:
        con.unregister("_tg_claims")
    if len(updated) != len(claims):
        done = {row[0] for row in updated}
        record_id, expected, _ = next(c for c in claims if c[0] not in done)
        raise _conflict(con, record_id, expected)


def edit_record(
    store: Path,
    record_id: int,
    changes: dict[str, str | None],
    contract: Contract,
    *,
    actor: str | None = None,
    expected_version: int | None = None,
) -> QuarantineRecord:
    """Store edited values beside the raw record (which stays as read)."""
    edit_records(
        store, {record_id: (expected_version, changes)}, {contract.source: contract}, actor=actor
    )
    (updated,) = get_records(store, [record_id])
    return updated


def edit_records(
    store: Path,
    edits: dict[int, tuple[int | None, dict[str, str | None]]],
    contracts: dict[str, Contract],
    *,
    actor: str | None = None,
) -> int:
    """Apply many edits ``{id: (expected version or None, {column: value})}`` all or nothing."""
    actor = actor or default_actor()
    records = _require(store, list(edits))
    for r in records:
        contract = contract_for(contracts, r.source)
        unknown = sorted(set(edits[r.id][1]) - set(contract.column_names))
        if unknown:
            raise ReviewError(
                f"record {r.id}: {', '.join(unknown)} is not a column of {contract.source} "
                f"(columns: {', '.join(contract.column_names)})"
            )
        if r.status != "pending":
            raise ReviewError(f"record {r.id} is {r.status}; only pending records can be edited")
    audit: list[tuple[str, dict[str, Any], str | None, str | None]] = []
    with transaction(store) as con:
        ensure_store_tables(con)
        claims: list[Claim] = []
        for r in records:
            expected_version, changes = edits[r.id]
            expected = r.version if expected_version is None else expected_version
            claims.append((r.id, expected, {"edited": canonical_json({**r.edited, **changes})}))
            audit.append(
                (
                    "record_edited",
                    {
                        "id": r.id,
                        "before": {c: _current_value(r, c) for c in changes},
                        "after": changes,
                        "contract_version": contracts[r.source].version,
                        "version": expected + 1,
                    },
                    r.source,
                    r.batch_id,
                )
            )
        _claim(con, claims, actor)
        append_audit_many(con, audit, actor=actor)
    return len(records)


def _current_value(record: QuarantineRecord, column: str) -> Any:
    if column in record.edited:
        return record.edited[column]
    return (record.normalized or {}).get(column)


def reject_records(
    store: Path,
    ids: Sequence[int],
    reason: str,
    *,
    actor: str | None = None,
    expected_versions: dict[int, int] | None = None,
) -> int:
    """Reject pending records for good, with a reason. Returns how many were rejected."""
    if not reason or not reason.strip():
        raise ReviewError("a reject needs a reason: pass --reason 'why this record is dropped'")
    actor = actor or default_actor()
    records = _require(store, ids)
    not_pending = [r.id for r in records if r.status != "pending"]
    if not_pending:
        raise ReviewError(
            f"record {', '.join(map(str, not_pending))} is not pending; nothing was rejected"
        )
    with transaction(store) as con:
        ensure_store_tables(con)
        _claim(
            con,
            [
                (
                    r.id,
                    (expected_versions or {}).get(r.id, r.version),
                    {"status": "rejected", "reason": reason},
                )
                for r in records
            ],
            actor,
        )
        append_audit_many(
            con,
            [
                (
                    "record_rejected",
                    {
                        "id": r.id,
                        "reason": reason,
                        "before": {"status": "pending", "rules": list(r.rules)},
                        "after": {"status": "rejected"},
                        "contract_version": r.contract_version,
                    },
                    r.source,
                    r.batch_id,
                )
                for r in records
            ],
            actor=actor,
        )
    return len(records)


def raw_by_column(record: QuarantineRecord, contract: Contract) -> dict[str, Any]:
    """The record's raw values (as read) under the contract's column names."""
    raw = {k: v for k, v in record.raw.items() if k != "text" or len(record.raw) > 1}
    headers = match_headers(list(raw), contract).header_map
    return {column: raw[header] for header, column in headers.items()}


def current_values(record: QuarantineRecord, contract: Contract) -> dict[str, Any]:
    """What a replay would start from: the raw values with the reviewer's edits on top."""
    values = raw_by_column(record, contract)
    values.update(record.edited)
    return {c: values.get(c) for c in contract.column_names}


def replay_frame(records: list[QuarantineRecord], contract: Contract) -> pl.DataFrame:
    """The records as a raw frame under the contract's column names, edits applied.

    The record number column holds the quarantine id, to join the verdicts back.
    """
    rows = []
    for r in records:
        values = current_values(r, contract)
        rows.append(
            {c: None if values.get(c) is None else str(values[c]) for c in contract.column_names}
        )
    frame = pl.DataFrame(rows, schema={c: pl.String for c in contract.column_names}, orient="row")
    return frame.with_columns(pl.Series(RECORD_COLUMN, [r.id for r in records], dtype=pl.Int64))


def _replay_source(
    store: Path,
    records: list[QuarantineRecord],
    contract: Contract,
    actor: str,
    expected_versions: dict[int, int],
) -> ReplaySummary:
    summary = ReplaySummary()
    replayable = [r for r in records if FILE_RULE not in r.rules]
    summary.not_replayable = [r.id for r in records if FILE_RULE in r.rules]
    if not replayable:
        return summary
    # A replay judges each record on its own: no batch-level hold.
    judged = dataclasses.replace(
        contract,
        policy=dataclasses.replace(
            contract.policy, on_row_failure="quarantine", max_quarantine_ratio=1.0
        ),
    )
    frame = replay_frame(replayable, judged)
    raw = RawBatch(source=contract.source, location="replay", content_sha256="replay", frame=frame)
    normalized = normalize(frame, judged)
    validated = validate(normalized.frame, judged)
    routed = route(
        raw,
        normalized.frame,
        validated.typed,
        validated.failures,
        judged,
        header_map=normalized.header_map,
    )
    by_id = {r.id: r for r in replayable}
    verdicts = {int(q["record"]): q for q in routed.quarantine.iter_rows(named=True)}
    for (
        dup
    ) in routed.duplicate_records:  # the same key twice in one replay: keep the second pending
        verdicts[dup] = {
            "errors": json.dumps(
                [
                    {
                        "rule": "_row.duplicate_key",
                        "column": None,
                        "value": None,
                        "message": "same key as another record in this replay",
                    }
                ]
            ),
            "rules": "_row.duplicate_key",
            "normalized": None,
        }
    normalized_json = dict(
        zip(
            normalized.frame[RECORD_COLUMN].to_list(),
            normalized.frame.drop(RECORD_COLUMN)
            .select(pl.struct(pl.all()).struct.json_encode())
            .to_series()
            .to_list(),
            strict=True,
        )
    )
    audit: list[tuple[str, dict[str, Any], str | None, str | None]] = []
    with transaction(store) as con:
        ensure_store_tables(con)
        ensure_target_table(con, contract)
        load = routed.load
        _claim(
            con,
            [
                (
                    record_id,
                    expected_versions.get(record_id, by_id[record_id].version),
                    {
                        "errors": verdict["errors"],
                        "rules": verdict["rules"],
                        "normalized": verdict.get("normalized") or normalized_json[record_id],
                    },
                )
                for record_id, verdict in verdicts.items()
            ],
            actor,
        )
        for record_id, verdict in verdicts.items():
            r = by_id[record_id]
            summary.still_failing += 1
            summary.failing_ids.append(record_id)
            audit.append(
                (
                    "record_replayed",
                    {
                        "id": record_id,
                        "outcome": "still_failing",
                        "contract_version": contract.version,
                        "before": {"rules": list(r.rules)},
                        "after": {"rules": verdict["rules"].split(",")},
                    },
                    r.source,
                    r.batch_id,
                )
            )
        if load.height:
            _claim(
                con,
                [
                    (
                        record_id,
                        expected_versions.get(record_id, by_id[record_id].version),
                        {"status": "replayed", "normalized": normalized_json[record_id]},
                    )
                    for record_id in load[RECORD_COLUMN].to_list()
                ],
                actor,
            )
            # lineage: the row keeps the batch and the line it came from
            lineage = pl.DataFrame(
                {
                    RECORD_COLUMN: load[RECORD_COLUMN],
                    LINEAGE_BATCH: [by_id[i].batch_id for i in load[RECORD_COLUMN].to_list()],
                    "_line": [by_id[i].record for i in load[RECORD_COLUMN].to_list()],
                },
                schema={RECORD_COLUMN: pl.Int64, LINEAGE_BATCH: pl.String, "_line": pl.Int64},
            )
            routed, updated = apply_existing_keys(con, routed, contract)
            moved = set(load[RECORD_COLUMN].to_list()) - set(routed.load[RECORD_COLUMN].to_list())
            if moved:
                raise ReviewError(
                    f"record {', '.join(map(str, sorted(moved)))}: key already loaded and the "
                    "contract's on_existing_key is quarantine; edit the key or reject the record"
                )
            rows = (
                routed.load.join(lineage, on=RECORD_COLUMN)
                .drop(RECORD_COLUMN)
                .rename({"_line": RECORD_COLUMN})
            )
            insert_target_rows(con, contract, rows)
            for record_id in load[RECORD_COLUMN].to_list():
                r = by_id[record_id]
                summary.loaded += 1
                summary.loaded_ids.append(record_id)
                audit.append(
                    (
                        "record_replayed",
                        {
                            "id": record_id,
                            "outcome": "loaded",
                            "contract_version": contract.version,
                            "before": {"status": "pending", "rules": list(r.rules)},
                            "after": {
                                "status": "replayed",
                                "values": json.loads(normalized_json[record_id]),
                            },
                            "updated_existing_key": bool(updated),
                        },
                        r.source,
                        r.batch_id,
                    )
                )
        append_audit_many(con, audit, actor=actor)
    return summary


def replay_records(
    store: Path,
    ids: Sequence[int],
    contracts: dict[str, Contract],
    *,
    actor: str | None = None,
    expected_versions: dict[int, int] | None = None,
    chunk_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Replay records under each source's current contract, in atomic chunks."""
    actor = actor or default_actor()
    summary = ReplaySummary()
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), chunk_size):
        chunk = _require(store, ids[start : start + chunk_size])
        pending = [r for r in chunk if r.status == "pending"]
        summary.skipped += len(chunk) - len(pending)
        for source in sorted({r.source for r in pending}):
            part = [r for r in pending if r.source == source]
            contract = contract_for(contracts, source)
            while part:
                try:
                    summary.merge(
                        _replay_source(store, part, contract, actor, expected_versions or {})
                    )
                    break
                except ConflictError as exc:
                    if len(ids) == 1:
                        raise
                    # another reviewer got there first: report it, replay the others
                    summary.conflicts.append(exc.record_id)
                    part = [r for r in part if r.id != exc.record_id]
        if on_progress:
            on_progress(len(chunk))
    return summary
