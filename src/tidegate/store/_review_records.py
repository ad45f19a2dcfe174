"""The quarantine records a bulk review action works on, read by id in one statement.

A replay page or a reject names thousands of ids: they go to the database as one array
parameter (``unnest`` on DuckDB, ``= ANY`` on PostgreSQL), not as thousands of ``?``
marks, and nothing is counted beside them. Only what a replay or a reject reads is
parsed (:class:`ReviewRecord`: not the errors, not the normalized values).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tidegate.store._connect import connect
from tidegate.store._quarantine import QuarantineRecord, _columns, _has_quarantine
from tidegate.store._tables import dialect_of

if TYPE_CHECKING:
    from tidegate.store._protocol import Store


@dataclass(frozen=True, slots=True)  # slots: a page makes thousands
class ReviewRecord:
    """What a replay or a reject needs of a quarantine record."""

    id: int
    source: str
    batch_id: str
    record: int | None
    raw: dict[str, Any]
    rules: tuple[str, ...]
    status: str
    version: int
    contract_version: int | None
    edited: dict[str, Any] = field(default_factory=dict)


Reviewable = QuarantineRecord | ReviewRecord  # what the replay's judge reads of a record


_REVIEW_COLUMNS = (
    "id, source, batch_id, record, raw, rules, status, version, contract_version, edited"
)


def records_by_id(store: Store, ids: Sequence[int]) -> list[ReviewRecord]:
    """The records with these ids, in id order (an id with no record is left out).

    Only the columns a review action reads come back, and the raw records are parsed
    in one call (one JSON array of them), not one call each."""
    if not ids:
        return []
    with connect(store, read_only=True) as con:
        if not _has_quarantine(con):
            return []
        match = (
            "id = ANY(?::bigint[])"
            if dialect_of(con) == "postgres"
            else "id IN (SELECT unnest(?::BIGINT[]))"
        )
        have = set(_columns(con).split(", "))  # an older store reads the review columns as NULL
        select = ", ".join(c if c in have else f"NULL AS {c}" for c in _REVIEW_COLUMNS.split(", "))
        rows = con.execute(
            f"SELECT {select} FROM quarantine WHERE {match} ORDER BY id",
            [[int(i) for i in ids]],
        ).fetchall()
    raws = json.loads("[" + ",".join(row[4] for row in rows) + "]")
    return [
        ReviewRecord(
            id=i,
            source=source,
            batch_id=batch,
            record=line,
            raw=raw,
            rules=tuple(filter(None, rules.split(","))),
            status=status,
            version=version,
            contract_version=contract_version,
            edited=json.loads(edited) if edited else {},
        )
        for (
            i,
            source,
            batch,
            line,
            _,
            rules,
            status,
            version,
            contract_version,
            edited,
        ), raw in zip(rows, raws, strict=True)
    ]
