"""The quarantine lifecycle: edit and reject, and the version check every action uses.

A record is ``pending`` until a reviewer acts. An edit is stored beside the raw
record (which never changes). A reject needs a reason. Each action checks the
record's ``version`` (optimistic concurrency): if another reviewer changed it
first, the action fails with :class:`ReviewConflictError` and nothing is lost. Every
action is an audit event with the actor and the values before and after.
Replays are in :mod:`tidegate.review._replay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from tidegate.contracts import Contract
from tidegate.errors import ReviewError
from tidegate.normalize._headers import match_headers
from tidegate.review._contracts import contract_for
from tidegate.store import default_actor, transaction
from tidegate.store._audit_log import append_audit_many, canonical_json
from tidegate.store._pii_seal import PiiSealer
from tidegate.store._quarantine import QuarantineRecord, get_records
from tidegate.store._review_audit import review_entries
from tidegate.store._review_records import Reviewable, ReviewRecord, records_by_id
from tidegate.store._review_writes import Claim, claim_versions
from tidegate.store._tables import ensure_store_tables

if TYPE_CHECKING:
    from tidegate.store import Store


R = TypeVar("R", QuarantineRecord, ReviewRecord)


def require_records(store: Store, ids: Sequence[int]) -> list[ReviewRecord]:
    """What a replay or a reject reads of each record; every id must exist."""
    return _all_found(ids, records_by_id(store, list(dict.fromkeys(ids))))


def _all_found(ids: Sequence[int], records: list[R]) -> list[R]:
    missing = sorted(set(ids) - {r.id for r in records})
    if missing:
        raise ReviewError(
            f"no quarantine record with id {', '.join(map(str, missing))}; "
            "see `tidegate quarantine list`"
        )
    return records


def edit_record(
    store: Store,
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
    store: Store,
    edits: dict[int, tuple[int | None, dict[str, str | None]]],
    contracts: dict[str, Contract],
    *,
    actor: str | None = None,
) -> int:
    """Apply many edits ``{id: (expected version or None, {column: value})}`` all or nothing."""
    actor = actor or default_actor()
    records = _all_found(list(edits), get_records(store, list(edits)))
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
        sealer = PiiSealer(con)  # PII values enter the audit encrypted, never in clear
        for r in records:
            expected_version, changes = edits[r.id]
            pii = pii_columns(contracts[r.source])
            expected = r.version if expected_version is None else expected_version
            claims.append((r.id, expected, {"edited": canonical_json({**r.edited, **changes})}))
            audit.append(
                (
                    "record_edited",
                    {
                        "id": r.id,
                        "before": sealer.seal_columns(
                            {c: _current_value(r, c) for c in changes}, pii
                        ),
                        "after": sealer.seal_columns(changes, pii),
                        "contract_version": contracts[r.source].version,
                        "version": expected + 1,
                    },
                    r.source,
                    r.batch_id,
                )
            )
        claim_versions(con, claims, actor)
        append_audit_many(con, audit, actor=actor)
    return len(records)


def pii_columns(contract: Contract) -> set[str]:
    return {c.name for c in contract.columns if c.pii}


def _current_value(record: QuarantineRecord, column: str) -> Any:
    if column in record.edited:
        return record.edited[column]
    return (record.normalized or {}).get(column)


def reject_records(
    store: Store,
    ids: Sequence[int],
    reason: str,
    *,
    actor: str | None = None,
    expected_versions: dict[int, int] | None = None,
) -> int:
    """Reject pending records for good, with a reason, all or none: one UPDATE checks
    every record's version, one audit entry per batch of them. Returns how many."""
    if not reason or not reason.strip():
        raise ReviewError("a reject needs a reason: pass --reason 'why this record is dropped'")
    actor = actor or default_actor()
    records = require_records(store, ids)
    not_pending = [r.id for r in records if r.status != "pending"]
    if not_pending:
        raise ReviewError(
            f"record {', '.join(map(str, not_pending))} is not pending; nothing was rejected"
        )
    with transaction(store) as con:
        ensure_store_tables(con)
        claim_versions(
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
        per_record = {
            r.id: {
                "outcome": "rejected",
                "before": {"status": "pending", "rules": list(r.rules)},
                "after": {"status": "rejected"},
                "contract_version": r.contract_version,
            }
            for r in records
        }
        by_id = {r.id: r for r in records}
        entries = review_entries("record_rejected", per_record, by_id, {"reason": reason})
        append_audit_many(con, entries, actor=actor)
    return len(records)


HeaderMaps = dict[tuple[str, ...], list[tuple[str, str]]]  # raw headers -> (header, column)


def raw_by_column(
    record: Reviewable, contract: Contract, header_maps: HeaderMaps | None = None
) -> dict[str, Any]:
    """The record's raw values (as read) under the contract's column names.

    ``header_maps`` caches the header matching across records (most of a page shares
    its file's headers): pass the same dict for every record judged under ``contract``.
    """
    raw = record.raw
    return {column: raw[header] for header, column in header_map(raw, contract, header_maps)}


def header_map(
    raw: dict[str, Any], contract: Contract, header_maps: HeaderMaps | None = None
) -> list[tuple[str, str]]:
    """(raw header, column) for a raw record's headers (a lone ``text`` is a line that
    was never split into fields: it names no column); cached in ``header_maps`` by the
    record's headers."""
    names = tuple(raw)
    headers = None if header_maps is None else header_maps.get(names)
    if headers is None:
        kept = [k for k in names if k != "text" or len(names) > 1]
        headers = list(match_headers(kept, contract).header_map.items())
        if header_maps is not None:
            header_maps[names] = headers
    return headers


def current_values(
    record: Reviewable, contract: Contract, header_maps: HeaderMaps | None = None
) -> dict[str, Any]:
    """What a replay would start from: the raw values with the reviewer's edits on top."""
    values = raw_by_column(record, contract, header_maps)
    values.update(record.edited)
    return {c: values.get(c) for c in contract.column_names}
