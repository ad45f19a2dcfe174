"""Batch profiles: a small statistics summary of each committed batch, per source.

Monitoring compares a new batch with the profiles of the source's recent batches.
A profile is plain JSON (see :mod:`tidegate.monitor._profile` for its fields), so
the table never needs a migration when the profile gains a statistic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tidegate.store._audit_log import canonical_json

if TYPE_CHECKING:
    import duckdb

PROFILES_DDL = """
CREATE TABLE IF NOT EXISTS profiles (
    source VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL,
    profile VARCHAR NOT NULL
);
"""


@dataclass(frozen=True)
class StoredProfile:
    source: str
    batch_id: str
    at: datetime
    profile: dict[str, Any]


def ensure_profiles_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(PROFILES_DDL)


def save_profile(
    con: duckdb.DuckDBPyConnection, source: str, batch_id: str, profile: dict[str, Any]
) -> None:
    """Store one batch's profile inside the caller's transaction (replacing an earlier one)."""
    ensure_profiles_table(con)
    con.execute("DELETE FROM profiles WHERE batch_id = ?", [batch_id])
    con.execute(
        'INSERT INTO profiles (source, batch_id, "at", profile) VALUES (?, ?, ?, ?)',
        [source, batch_id, datetime.now(UTC).replace(tzinfo=None), canonical_json(profile)],
    )


def _has_checkpoints(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'checkpoints' "
        "AND table_schema = current_schema()"
    ).fetchall()
    return bool(rows and rows[0][0])


def read_recent_profiles(
    con: duckdb.DuckDBPyConnection,
    source: str,
    limit: int,
    *,
    exclude_batch_id: str | None = None,
) -> list[StoredProfile]:
    """The source's ``limit`` most recent profiles, newest first.

    Profiles of batches that a reprocess replaced are left out: their content lives
    on in the replacing batch, and counting it twice would skew the norm.
    """
    ensure_profiles_table(con)
    replaced = (
        "AND p.batch_id NOT IN (SELECT batch_id FROM checkpoints WHERE status = 'replaced')"
        if _has_checkpoints(con)
        else ""
    )
    rows = con.execute(
        f'SELECT p.source, p.batch_id, p."at", p.profile FROM profiles p '
        f"WHERE p.source = ? AND p.batch_id <> ? {replaced} "
        f'ORDER BY p."at" DESC, p.batch_id DESC LIMIT ?',
        [source, exclude_batch_id or "", limit],
    ).fetchall()
    return [StoredProfile(s, b, at, json.loads(text)) for s, b, at, text in rows]


def has_profile(con: duckdb.DuckDBPyConnection, batch_id: str) -> bool:
    ensure_profiles_table(con)
    rows = con.execute("SELECT count(*) FROM profiles WHERE batch_id = ?", [batch_id]).fetchall()
    return bool(rows and rows[0][0])
