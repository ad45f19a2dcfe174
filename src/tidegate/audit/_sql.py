"""Run one read-only SQL query over the store, refusing anything but a read.

Three independent guards, so one mistake is not enough to write:

1. **Parse.** DuckDB's own parser (``duckdb.extract_statements``) must find exactly
   one statement, of type ``SELECT`` (which also covers ``FROM t``, ``WITH ...``,
   ``VALUES``, ``DESCRIBE``, ``SHOW`` and ``SUMMARIZE``). ``INSERT``, ``UPDATE``,
   ``DELETE``, ``CREATE``, ``DROP``, ``ATTACH``, ``COPY``, ``EXPORT``, ``PRAGMA``,
   ``CALL``, ``SET``, ``LOAD``/``INSTALL`` and two statements in one string are
   refused before the store is opened. The parsed statement object is what runs,
   so the text cannot be read one way and executed another.
2. **A read-only database.** The store is opened with ``read_only=True``, so DuckDB
   itself refuses any write, including side effects hidden inside a SELECT (such as
   ``nextval``). The store's own :func:`tidegate.store.connect` opens read-write on
   purpose (one process may not mix configurations for one file, and the review app
   writes); a CLI command is its own process and holds no other connection, so the
   read-only open is safe here. If it is refused anyway, the command says so rather
   than falling back to a writable connection.
3. **No reach outside the store.** ``enable_external_access = false`` (no reading
   or writing other files, no ``ATTACH``, no URLs), extension auto-install and
   auto-load are off, and the configuration is locked; the query also runs inside
   a transaction that is always rolled back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.errors import AuditQueryError, StoreError
from tidegate.store._connect import open_with_retry

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._location import PostgresStore, Store

QUERY_TIMEOUT_MS = 60_000  # a PostgreSQL store's `audit sql` gives up after a minute

READ_ONLY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
LOCK_WAIT_SECONDS = float(os.environ.get("TIDEGATE_LOCK_WAIT", "30"))


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows matched than the limit allowed


def read_only_statement(sql: str) -> duckdb.Statement:
    """The one SELECT statement in ``sql``, or :class:`AuditQueryError` saying why not."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise AuditQueryError(f"the query does not parse: {exc}") from None
    if not statements:
        raise AuditQueryError(
            'the query is empty; pass one statement such as "SELECT * FROM audit"'
        )
    if len(statements) > 1:
        raise AuditQueryError(
            f"the query holds {len(statements)} statements; `tidegate audit sql` runs exactly "
            "one SELECT (remove the extra ';' and what follows it)"
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        kind = statement.type.name
        raise AuditQueryError(
            f"refused a {kind} statement: `tidegate audit sql` only reads (SELECT, FROM ..., "
            "WITH ..., DESCRIBE, SHOW); change data with the tidegate commands instead"
        )
    return statement


def _open_read_only(store: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not store.exists():
        raise StoreError(
            f"no store at {store}: nothing has been ingested yet "
            "(run `tidegate demo` or `tidegate run SOURCE`, or set TIDEGATE_STORE)"
        )
    try:
        return open_with_retry(store, wait_seconds, read_only=True, config=dict(READ_ONLY_CONFIG))
    except duckdb.ConnectionException as exc:
        raise StoreError(
            f"cannot open {store} read-only: {exc}; close other connections to it in "
            "this process and try again"
        ) from exc


def run_read_query(
    store: Store, sql: str, *, limit: int = 1000, wait_seconds: float | None = None
) -> QueryResult:
    """Check ``sql`` is one SELECT, then run it read-only; at most ``limit`` rows."""
    import duckdb

    if limit < 1:
        raise AuditQueryError(f"--limit {limit} must be 1 or more")
    statement = read_only_statement(sql)
    from tidegate.store._location import PostgresStore

    if isinstance(store, PostgresStore):
        return _run_on_postgres(store, sql, limit)
    con = _open_read_only(store, LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    try:
        con.execute("SET lock_configuration = true")
        con.execute("BEGIN TRANSACTION")
        try:
            result = con.execute(statement)
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(limit + 1)
        except duckdb.Error as exc:
            raise AuditQueryError(f"the query failed: {exc}") from None
        finally:
            con.execute("ROLLBACK")
    finally:
        con.close()
    return QueryResult(columns, rows[:limit], len(rows) > limit)


def _run_on_postgres(store: PostgresStore, sql: str, limit: int) -> QueryResult:
    """The same single SELECT in a READ ONLY transaction that is always rolled back,
    with a statement timeout; PostgreSQL itself refuses any write."""
    from tidegate.store._postgres import pg_connect

    with pg_connect(store, read_only=True) as con:
        con.execute("BEGIN READ ONLY")
        try:
            con.execute(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}")
            try:
                result = con.execute(sql)
            except StoreError as exc:
                raise AuditQueryError(f"the query failed: {exc}") from None
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(limit + 1)
        finally:
            con.execute("ROLLBACK")
    return QueryResult(columns, rows[:limit], len(rows) > limit)
