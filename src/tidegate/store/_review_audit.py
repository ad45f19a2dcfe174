"""The audit entries of bulk review actions (replay, reject): one entry per page and batch.

A replay or a reject of thousands of records writes one ``record_replayed`` /
``record_rejected`` entry per batch the records came from and per page of at most
:data:`ENTRY_RECORDS` records, not one per record: each entry is hashed and signed once.
The entry still says what happened to every record it covers::

    {"contract_version": 3, "counts": {"loaded": 2, "still_failing": 1},
     "records": {"17": {"outcome": "loaded", "before": {...}, "after": {...}}, ...}}

plus what the records share (a reject's ``reason``, ...). :func:`record_details` reads
an entry of either shape (this one, or the one entry per record with an ``id`` that
stores written before it hold) as ``{record id: what happened to it}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidegate.store._review_records import ReviewRecord

ENTRY_RECORDS = 5000  # records one entry covers at most
AuditRow = tuple[str, dict[str, Any], str | None, str | None]  # event, detail, source, batch


def review_entries(
    event: str,
    per_record: Mapping[int, dict[str, Any]],
    records: Mapping[int, ReviewRecord],
    shared: Mapping[str, Any],
) -> list[AuditRow]:
    """The entries for ``per_record`` (record id -> what happened to it, with an
    ``outcome``): grouped by (source, batch) in id order, at most ENTRY_RECORDS each."""
    groups: dict[tuple[str, str], list[int]] = {}
    for record_id in sorted(per_record):
        r = records[record_id]
        groups.setdefault((r.source, r.batch_id), []).append(record_id)
    out: list[AuditRow] = []
    for (source, batch_id), ids in groups.items():
        for start in range(0, len(ids), ENTRY_RECORDS):
            page = ids[start : start + ENTRY_RECORDS]
            counts: dict[str, int] = {}
            for record_id in page:
                outcome = per_record[record_id]["outcome"]
                counts[outcome] = counts.get(outcome, 0) + 1
            detail = {
                **shared,
                "counts": counts,
                "records": {str(i): per_record[i] for i in page},
            }
            out.append((event, detail, source, batch_id))
    return out


def record_details(detail: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    """Record id -> what an audit entry says happened to that record (its ``outcome``,
    ``before``, ``after``, with what the entry's records share); {} for other entries."""
    if isinstance(detail.get("records"), dict):
        shared = {k: v for k, v in detail.items() if k not in ("records", "counts")}
        return {int(k): {**shared, "id": int(k), **v} for k, v in detail["records"].items()}
    if detail.get("id") is not None:
        return {int(detail["id"]): dict(detail)}
    return {}


def narrowed_to(detail: Mapping[str, Any], ids: set[int]) -> dict[str, Any]:
    """A bulk entry's detail with only the records of ``ids`` (and their counts): what
    the entry says about them (an entry of one record is returned as it is)."""
    if not isinstance(detail.get("records"), dict):
        return dict(detail)
    records = {k: v for k, v in detail["records"].items() if int(k) in ids}
    counts: dict[str, int] = {}
    for v in records.values():
        counts[v["outcome"]] = counts.get(v["outcome"], 0) + 1
    return {**detail, "counts": counts, "records": records}
