"""Batch profiles: a small statistics summary of each committed batch, per source.

Monitoring compares a new batch with the profiles of the source's recent batches.
A profile is plain JSON (see :mod:`tidegate.monitor._profile` for its fields), so
the table never needs a migration when the profile gains a statistic.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tidegate.contracts._model import ColumnSpec, Contract
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


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema()",
        [name],
    ).fetchall()
    return bool(rows and rows[0][0])


def _has_checkpoints(con: duckdb.DuckDBPyConnection) -> bool:
    return _has_table(con, "checkpoints")


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


@dataclass(frozen=True)
class UnprofiledBatch:
    """A committed batch with no profile: its run stopped between the commit and the
    monitor step (the checkpoint's counts and the batch's audited event)."""

    batch_id: str
    location: str
    rows_in: int
    loaded: int
    quarantined: int
    duplicates: int
    event: str


def unprofiled_batches(
    con: duckdb.DuckDBPyConnection, source: str, limit: int
) -> list[UnprofiledBatch]:
    """The source's committed batches newer than its newest profiled one that have no
    profile, oldest first, at most ``limit`` (the newest ones): a bounded catch-up, so
    a store older than profiles is not profiled back to its first batch."""
    if not _has_checkpoints(con):
        return []
    # read-only: no profiles table yet means no batch of the store was ever profiled
    profiled = _has_table(con, "profiles")
    unprofiled, params = (
        (
            "AND c.batch_id NOT IN (SELECT batch_id FROM profiles WHERE source = ?) "
            "AND c.committed_at >= COALESCE((SELECT max(k.committed_at) FROM checkpoints k "
            "JOIN profiles p ON p.batch_id = k.batch_id WHERE k.source = ?), c.committed_at) ",
            [source, source, source, limit],
        )
        if profiled
        else ("", [source, limit])
    )
    rows = con.execute(
        "SELECT c.batch_id, c.location, c.rows_in, c.loaded, c.quarantined, c.duplicates, "
        "(SELECT a.event FROM audit a WHERE a.batch_id = c.batch_id AND a.event IN "
        "('batch_committed', 'batch_reprocessed', 'batch_held') ORDER BY a.seq DESC LIMIT 1) "
        f"FROM checkpoints c WHERE c.source = ? AND c.status = 'committed' {unprofiled}"
        "ORDER BY c.committed_at DESC, c.batch_id DESC LIMIT ?",
        params,
    ).fetchall()
    return [
        UnprofiledBatch(b, loc or "", int(r or 0), int(ld or 0), int(q or 0), int(d or 0), e)
        for b, loc, r, ld, q, d, e in reversed(rows)
        if e is not None  # a checkpoint without its audited event: nothing to monitor
    ]


def has_profile(con: duckdb.DuckDBPyConnection, batch_id: str) -> bool:
    ensure_profiles_table(con)
    rows = con.execute("SELECT count(*) FROM profiles WHERE batch_id = ?", [batch_id]).fetchall()
    return bool(rows and rows[0][0])


NUMERIC_TYPES = ("int64", "float64")
TOP_VALUES = 20
# Up to this many loaded rows a string column's distinct count is exact; above it, an
# estimate (HyperLogLog, within a few percent) where the engine has one: drift only asks
# whether a column holds at most TOP_VALUES distinct values, and an exact count of every
# value of a large batch's column (an email, an id) costs more than the rest of the profile.
EXACT_DISTINCT_ROWS = 100_000


def loaded_column_stats(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    batch_id: str,
    pii_columns: Collection[str] = (),
) -> dict[str, dict[str, Any]]:
    """The statistics of a batch's loaded rows, by contract column, as a profile holds
    them (``kind`` numeric: count, mean, std, min, max, only the count if ``pii``; string:
    count, n_distinct and the top values unless ``pii``; other: count), computed in the
    database (or at the publication, from the frames in memory, for a batch whose every
    chunk was held: :mod:`tidegate.store._held_stats`)."""
    from tidegate.store._held_stats import take_loaded_stats
    from tidegate.store._tables import LINEAGE_BATCH, quote_ident

    kept = take_loaded_stats(batch_id, pii_columns)
    if kept is not None:
        return kept

    table = quote_ident(contract.target_table)
    where = f"WHERE {LINEAGE_BATCH} = ?"
    picks: list[str] = []

    def numeric(column: ColumnSpec) -> bool:
        return column.name not in pii_columns and (
            column.type in NUMERIC_TYPES or bool(column.decimal_precision_scale)
        )

    for column in contract.columns:
        c = quote_ident(column.name)
        if numeric(column):
            v = f"CAST({c} AS DOUBLE PRECISION)"
            picks += [f"count({c})", f"avg({v})", f"stddev_samp({v})", f"min({v})", f"max({v})"]
        else:
            picks += [f"count({c})"]
    picks.append("count(*)")
    row = list(
        con.execute(f"SELECT {', '.join(picks)} FROM {table} {where}", [batch_id]).fetchall()[0]
    )
    rows = int(row.pop())
    distinct = _distinct_counts(con, contract, table, where, batch_id, rows)
    stats: dict[str, dict[str, Any]] = {}
    for column in contract.columns:
        if numeric(column):
            count, mean, std, low, high = row[:5]
            del row[:5]
            stats[column.name] = (
                {
                    "kind": "numeric",
                    "count": int(count),
                    "mean": float(mean),
                    "std": None if std is None else float(std),
                    "min": float(low),
                    "max": float(high),
                }
                if count
                else {"kind": "numeric", "count": 0}
            )
        elif column.type == "string":
            (count,) = row[:1]
            del row[:1]
            stats[column.name] = {
                "kind": "string",
                "count": int(count),
                "n_distinct": distinct[column.name],
                **_string_top(
                    con, table, where, batch_id, column.name, rows, column.name in pii_columns
                ),
            }
        elif column.type in NUMERIC_TYPES or column.decimal_precision_scale:
            (count,) = row[:1]  # pii: counts only, never a mean, minimum or maximum
            del row[:1]
            stats[column.name] = {"kind": "numeric", "count": int(count), "pii": True}
        else:
            (count,) = row[:1]
            del row[:1]
            stats[column.name] = {"kind": "other", "count": int(count)}
    return stats


def _distinct_counts(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table: str,
    where: str,
    batch_id: str,
    rows: int,
) -> dict[str, int]:
    """Every string column's distinct count in one scan of the batch's rows: exact up to
    :data:`EXACT_DISTINCT_ROWS` rows (one part: far below ``PARTITION_ROWS``) and on
    PostgreSQL (whose aggregates spill on their own), DuckDB's ``approx_count_distinct``
    above (bounded memory, so no parts either)."""
    from tidegate.store._tables import is_postgres_connection, quote_ident

    names = [c.name for c in contract.columns if c.type == "string"]
    if not names:
        return {}
    exact = rows <= EXACT_DISTINCT_ROWS or is_postgres_connection(con)
    count = "count(DISTINCT {})" if exact else "approx_count_distinct({})"
    picks = ", ".join(count.format(quote_ident(n)) for n in names)
    (row,) = con.execute(f"SELECT {picks} FROM {table} {where}", [batch_id]).fetchall()
    return {name: int(n or 0) for name, n in zip(names, row, strict=True)}


def _string_top(
    con: duckdb.DuckDBPyConnection,
    table: str,
    where: str,
    batch_id: str,
    name: str,
    rows: int,
    pii: bool,
) -> dict[str, Any]:
    """A string column's top values (``pii``: none, only that it is), in parts by a hash
    of the value on a large batch (each value falls in one part: the top values are
    among the parts' top values)."""
    from tidegate.store._tables import is_postgres_connection, quote_ident, value_partitions

    if pii:
        return {"pii": True}
    c = quote_ident(name)
    collate = ' COLLATE "C"' if is_postgres_connection(con) else ""
    top = []
    for part in value_partitions(con, rows, [c]):
        top += con.execute(
            f"SELECT {c}, count(*) AS n FROM {table} {where}{part} AND {c} IS NOT NULL "
            f"GROUP BY {c} ORDER BY n DESC, {c}{collate} LIMIT {TOP_VALUES}",
            [batch_id],
        ).fetchall()
    ranked = sorted(((str(v), int(n)) for v, n in top), key=lambda t: (-t[1], t[0]))
    return {"top": [[v, n] for v, n in ranked[:TOP_VALUES]]}
