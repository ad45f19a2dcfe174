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


@dataclass(frozen=True)
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


def records_by_id(store: Store, ids: Sequence[int]) -> list[ReviewRecord]:
    """The records with these ids, in id order (an id with no record is left out)."""
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
        rows = con.execute(
            f"SELECT {_columns(con)} FROM quarantine WHERE {match} ORDER BY id",
            [[int(i) for i in ids]],
        ).fetchall()
    loads = json.loads
    return [
        ReviewRecord(
            id=i,
            source=source,
            batch_id=batch,
            record=line,
            raw=loads(raw),
            rules=tuple(r for r in rules.split(",") if r),
            status=status,
            version=version,
            contract_version=contract_version,
            edited=loads(edited) if edited else {},
        )
        for (
            i,
            source,
            batch,
            _,
            line,
            raw,
            _,
            _,
            rules,
            status,
            version,
            contract_version,
            _,
            _,
            _,
            edited,
            _,
        ) in rows
    ]
