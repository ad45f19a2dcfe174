"""Writes to the quarantine table on behalf of reviewers: the optimistic version claim."""

from __future__ import annotations

from typing import Any

from tidegate.errors import ReviewConflictError
from tidegate.store._connect import fetch_one
from tidegate.store._quarantine_counts import count, uncount
from tidegate.store._quarantine_rules import reindex_records
from tidegate.store._tables import dialect_of


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
    naming it; the caller's transaction then rolls back every update. The check is one
    SELECT over the claims (before the UPDATE, in the same transaction) and the UPDATE's
    row count: DuckDB's ``UPDATE ... RETURNING`` costs far more than the UPDATE itself.
    """
    if not claims:
        return
    import polars as pl  # a write: the readers of the lifecycle's module need no polars

    from tidegate.store._row_writes import utc_now

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
        stale = fetch_one(
            con,
            "SELECT min(c.id) FROM _tg_claims c LEFT JOIN quarantine q ON q.id = c.id "
            "AND q.version = c.expected AND q.status = 'pending' WHERE q.id IS NULL",
        )
        if stale is not None and stale[0] is not None:
            raise _conflict(con, int(stale[0]), _expected(claims, int(stale[0])))
        counted = bool({"status", "rules"} & set(keys))  # the counts table's key changes
        claimed = "q.id IN (SELECT id FROM _tg_claims)"
        if counted:
            uncount(con, claimed)
        cur = con.execute(
            f"UPDATE quarantine SET {assignments}, version = quarantine.version + 1, "
            "updated_at = ?, updated_by = ? FROM _tg_claims c WHERE quarantine.id = c.id "
            "AND quarantine.version = c.expected AND quarantine.status = 'pending'",
            [utc_now(), actor],
        )
        updated = _row_count(con, cur)
        if counted:
            count(con, claimed)
        if "errors" in keys:  # a replay that still fails rewrites the record's errors
            reindex_records(con, "SELECT id FROM _tg_claims")
    finally:
        con.unregister("_tg_claims")
    if updated != len(claims):  # the SELECT saw them all claimable: a concurrent writer
        record_id, expected, _ = claims[0]
        raise _conflict(con, record_id, expected)


def _expected(claims: list[Claim], record_id: int) -> int:
    return next(c[1] for c in claims if c[0] == record_id)


def _row_count(con: Any, cur: Any) -> int:
    """Rows an UPDATE changed: PostgreSQL's cursor counts them, DuckDB returns the count."""
    if dialect_of(con) == "postgres":
        return int(cur.rowcount)
    row = cur.fetchone()
    return int(row[0]) if row else 0
