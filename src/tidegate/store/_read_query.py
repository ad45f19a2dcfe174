"""The read-only query behind `tidegate audit sql`, on each backend.

The statement check (exactly one SELECT) is the caller's (:mod:`tidegate.audit._sql`);
here the database itself is made to refuse any write:

- **DuckDB**: the file is opened with ``read_only=True``, so DuckDB refuses any
  write, including side effects hidden inside a SELECT (such as ``nextval``). The
  store's own :meth:`DuckDBStore.connect` opens read-write on purpose (one process may
  not mix configurations for one file, and the review app writes); a CLI command is
  its own process and holds no other connection, so the read-only open is safe here.
  If it is refused anyway, the command says so rather than falling back to a writable
  connection. ``enable_external_access = false`` (no reading or writing other files, no
  ``ATTACH``, no URLs), extension auto-install and auto-load are off, and the
  configuration is locked; the query runs inside a transaction that is always rolled
  back.
- **PostgreSQL**: a ``READ ONLY`` transaction that is always rolled back, with a
  statement timeout, as the store's reader role (``SET LOCAL ROLE <schema>_reader``,
  made by ``store init``: SELECT on the store's tables only) when the connecting role
  may take it (:mod:`tidegate.store._pg_reader`).

A query the database refuses is a :class:`ReadQueryError` carrying the database's words.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.errors import ReadQueryError, StoreError
from tidegate.store._protocol import QueryResult

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._pg_store import PostgresStore

QUERY_TIMEOUT_MS = 60_000  # a PostgreSQL store's `audit sql` gives up after a minute

READ_ONLY_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def _open_read_only(store: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    import duckdb

    from tidegate.store._duckdb import open_with_retry

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


def duckdb_read_only_query(
    store: Path, sql: str, limit: int, wait_seconds: float, parsed: Any = None
) -> QueryResult:
    """``parsed`` (DuckDB's statement object of ``sql``) or else ``sql``, on a read-only
    connection of its own, in a transaction that is rolled back."""
    import duckdb

    con = _open_read_only(store, wait_seconds)
    try:
        con.execute("SET lock_configuration = true")
        con.execute("BEGIN TRANSACTION")
        try:
            result = con.execute(sql if parsed is None else parsed)
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(limit + 1)
        except duckdb.Error as exc:
            raise ReadQueryError(str(exc)) from None
        finally:
            con.execute("ROLLBACK")
    finally:
        con.close()
    return QueryResult(columns, rows[:limit], len(rows) > limit)


def pg_read_only_query(store: PostgresStore, sql: str, limit: int) -> QueryResult:
    """The same single SELECT in a READ ONLY transaction that is always rolled back,
    with a statement timeout; PostgreSQL itself refuses any write."""
    from tidegate.store._pg_reader import become_reader
    from tidegate.store._postgres import pg_connect

    with pg_connect(store, read_only=True) as con:
        con.execute("BEGIN READ ONLY")
        try:
            con.execute(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}")
            become_reader(con)  # `<schema>_reader`: SELECT on the store's tables only
            try:
                result = con.execute(sql)
            except StoreError as exc:
                raise ReadQueryError(str(exc)) from None
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(limit + 1)
        finally:
            con.execute("ROLLBACK")
    return QueryResult(columns, rows[:limit], len(rows) > limit)


def first_rows_sql(table: str, rows: int = 10) -> str:
    """A SELECT of a target table's first rows, for `tidegate audit sql` (a target
    table's name is an identifier: no quoting needed inside a shell's double quotes)."""
    return f"SELECT * FROM {table} LIMIT {int(rows)}"
