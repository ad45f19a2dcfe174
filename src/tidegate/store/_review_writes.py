"""Writes to the quarantine table on behalf of reviewers: the optimistic version claim."""

from __future__ import annotations

from typing import Any

import polars as pl

from tidegate.errors import ReviewConflictError
from tidegate.store._connect import fetch_one
from tidegate.store._quarantine_rules import reindex_records
from tidegate.store._row_writes import utc_now


def _conflict(con: Any, record_id: int, expected: int) -> ReviewConflictError:
    row = fetch_one(
        con, "SELECT version, status, updated_by FROM quarantine WHERE id = ?", [record_id]
    )
    if row is None:
        return ReviewConflictError(record_id, expected, -1, "deleted", "a reprocess of its batch")
    return ReviewConflictError(record_id, expected, row[0], row[1], row[2])


Claim = tuple[int, int, dict[str, Any]]  # (record id, expected version, column -> new value)


def claim_versions(con: Any, claims: list[Claim], actor: str) -> None:
    """Update pending records whose version is still the expected one, in one statement.

    If any record was changed meanwhile (or is no longer pending), raise ReviewConflictError
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
        if "errors" in keys:  # a replay that still fails rewrites the record's errors
            reindex_records(con, "SELECT id FROM _tg_claims")
    finally:
        con.unregister("_tg_claims")
    if len(updated) != len(claims):
        done = {row[0] for row in updated}
        record_id, expected, _ = next(c for c in claims if c[0] not in done)
        raise _conflict(con, record_id, expected)
