"""Look-ups by key behind `tidegate audit trace`: a target row by its primary key, the
quarantine rows that may hold a key, the checkpoint of a batch; and the keys a target
holds already, for `tidegate quarantine recheck`. Each takes an open
connection; rows come back as dicts of column name to the value as stored.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tidegate.errors import StoreError
from tidegate.store._connect import fetch_one
from tidegate.store._tables import is_postgres_connection, quote_ident

if TYPE_CHECKING:
    from tidegate.store._protocol import Connection

# A value JSON keeps verbatim, so a LIKE over the stored JSON text can prefilter on it.
_PLAIN = re.compile(r"^[\w.@:+ -]+$")
QUARANTINE_TRACE_COLUMNS = (
    "id, batch_id, location, record, status, version, rules, errors, raw, "
    "normalized, edited, reason, contract_version, updated_by, updated_at"
)
_KEYS_PER_QUERY = 1000


def _rows(result: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def target_rows_by_key(con: Connection, table: str, key: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of target ``table`` whose primary key columns equal ``key`` (values as
    text, cast to each column's type); none when a key column is missing or a value
    cannot be of its column's type."""
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema()",
            [table],
        ).fetchall()
    )
    # DuckDB: TRY_CAST gives NULL for a key that is not of the column's type. PostgreSQL
    # has no TRY_CAST; its cast error means the same: no row can have that key.
    cast = "CAST" if is_postgres_connection(con) else "TRY_CAST"
    clauses = []
    for column in key:
        if column not in types:
            return []
        clauses.append(f"{quote_ident(column)} = {cast}(? AS {types[column]})")
    try:
        result = con.execute(
            f"SELECT * FROM {quote_ident(table)} WHERE {' AND '.join(clauses)}",
            list(key.values()),
        )
    except StoreError:
        if cast == "TRY_CAST":
            raise
        return []
    return _rows(result)


def quarantine_rows_mentioning(
    con: Connection, source: str, values: list[str]
) -> list[dict[str, Any]]:
    """``source``'s quarantine rows, in id order, narrowed (when every value is plain
    text that JSON keeps verbatim) to those whose raw, normalized or edited JSON contains
    each value. JSON columns come back as their text: the caller decides what matches."""
    sql = f"SELECT {QUARANTINE_TRACE_COLUMNS} FROM quarantine WHERE source = ?"
    params: list[Any] = [source]
    if all(_PLAIN.match(v) for v in values):  # cheap prefilter
        for v in values:
            sql += " AND (raw || coalesce(normalized, '') || coalesce(edited, '')) LIKE ?"
            params.append(
                "%" + v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
        sql = sql.replace("LIKE ?", "LIKE ? ESCAPE '\\'")
    return _rows(con.execute(sql + " ORDER BY id", params))


def checkpoint_of_batch(con: Connection, batch_id: str) -> dict[str, Any] | None:
    """The (last) checkpoint row of ``batch_id``: location, status, contract_version,
    contract_hash, committed_at; None when the batch has none."""
    rows = _rows(
        con.execute(
            "SELECT location, status, contract_version, contract_hash, committed_at "
            "FROM checkpoints WHERE batch_id = ?",
            [batch_id],
        )
    )
    return rows[-1] if rows else None


def _location_clause(location: str | None, column: str) -> tuple[str, list[Any]]:
    """`` AND`` a file: its path as stored, or a path ending in ``/location``."""
    if location is None:
        return "", []
    return f" AND ({column} = ? OR {column} LIKE ?)", [location, "%/" + location.lstrip("/")]


def target_keys_at_record(
    con: Connection,
    table: str,
    source: str,
    key: tuple[str, ...],
    record: int,
    location: str | None,
) -> list[dict[str, Any]]:
    """The primary keys of target rows loaded from line/offset ``record`` (of one file, or
    of any file of ``source``)."""
    clause, params = _location_clause(location, "c.location")
    cols = ", ".join(f"t.{quote_ident(k)}" for k in key)
    return _rows(
        con.execute(
            f"SELECT {cols} FROM {quote_ident(table)} t JOIN checkpoints c "
            "ON c.batch_id = t._tidegate_batch_id AND c.source = ? "
            f"WHERE t._tidegate_record = ?{clause}",
            [source, record, *params],
        )
    )


def quarantine_at_record(
    con: Connection, source: str, record: int, location: str | None
) -> list[dict[str, Any]]:
    """``source``'s quarantine rows of line/offset ``record`` (of one file, or any)."""
    clause, params = _location_clause(location, "location")
    return _rows(
        con.execute(
            f"SELECT {QUARANTINE_TRACE_COLUMNS} FROM quarantine WHERE source = ? AND record = ?"
            f"{clause} ORDER BY id",
            [source, record, *params],
        )
    )


def keys_in_target(
    con: Connection, table: str, key: tuple[str, ...], keys: list[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Which of ``keys`` (primary key values, typed as the target stores them) target
    ``table`` holds already: plain SELECTs with the keys as parameters, so a read-only
    connection will do (a recheck writes nothing, not even a temporary table)."""
    exists = fetch_one(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema()",
        [table],
    )
    wanted = {k for k in keys if None not in k}
    if not (exists and exists[0]) or not wanted:
        return set()
    cols = ", ".join(quote_ident(k) for k in key)
    firsts = list(dict.fromkeys(k[0] for k in wanted))
    found: set[tuple[Any, ...]] = set()
    for start in range(0, len(firsts), _KEYS_PER_QUERY):
        part = firsts[start : start + _KEYS_PER_QUERY]
        marks = ", ".join("?" for _ in part)
        rows = con.execute(
            f"SELECT {cols} FROM {quote_ident(table)} WHERE {quote_ident(key[0])} IN ({marks})",
            part,
        ).fetchall()
        found.update(tuple(r) for r in rows)
    return found & wanted
