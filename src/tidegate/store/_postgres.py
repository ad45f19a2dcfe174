"""The PostgreSQL store: the same tables as the DuckDB file, for a team's workers.

Store code is written once, in the SQL both engines speak, against a small
connection surface (``execute(sql, params)`` with ``?`` placeholders, ``fetchall``,
``register``/``unregister`` of a frame as a table). :class:`PgConnection` gives a
psycopg connection that surface:

- ``?`` placeholders become psycopg's ``%s`` (outside quotes; a literal ``%`` is escaped);
- ``register`` copies a polars/Arrow frame into a temporary table with ``COPY ... FROM
  STDIN`` (CSV written by polars), so ``INSERT ... SELECT ... FROM _tg_load`` works as is;
- every write transaction first takes a transaction-scoped advisory lock on the store's
  schema: writers take turns, as with DuckDB's file lock, so the audit chain's
  read-the-head-then-append never forks.

The database itself keeps the audit log append-only: triggers refuse UPDATE, DELETE and
TRUNCATE on ``audit`` and refuse an INSERT that does not extend the chain (next seq,
``prev_hash`` = the head's hash). Grant the flows' role only INSERT and SELECT on
``audit`` (see README, "Team setup") and not even a compromised worker can rewrite it.
The triggers and their functions, made so that a writer's session cannot redirect them
(a pinned search_path, every name schema-qualified), are in
:mod:`tidegate.store._pg_triggers`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tidegate.errors import (
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
    TidegateError,
    TransientWriteConflictError,
)
from tidegate.store._pg_schema import store_schema, take_writer_lock

if TYPE_CHECKING:
    import polars as pl
    import psycopg
    import pyarrow as pa

    from tidegate.store._pg_store import PostgresStore

CONNECT_TIMEOUT_S = 5
COPY_SLICE_ROWS = 100_000  # rows per CSV slice sent to COPY (bounds the text in memory)

# DuckDB scans with zone maps; PostgreSQL needs indexes for what the store looks up:
# a batch key, a batch's quarantine records, a source's pending queue, and the review
# page's counts by source, status and rules (quarantine_summary: an index-only scan, not
# a read of the wide rows; a store made before it gets it at its next write).
INDEX_DDL = """
CREATE INDEX IF NOT EXISTS checkpoints_source_key ON checkpoints (source, batch_key);
CREATE INDEX IF NOT EXISTS checkpoints_batch ON checkpoints (batch_id);
CREATE INDEX IF NOT EXISTS quarantine_batch ON quarantine (batch_id);
CREATE INDEX IF NOT EXISTS quarantine_source_status ON quarantine (source, status, id);
CREATE INDEX IF NOT EXISTS quarantine_status ON quarantine (status, id);
CREATE INDEX IF NOT EXISTS quarantine_summary ON quarantine (source, status, rules);
CREATE INDEX IF NOT EXISTS audit_batch ON audit (batch_id);
"""


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``; a ``%`` becomes ``%%``. Quoted text is kept."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


def _pg_type(dtype: pl.DataType) -> str:
    import polars as pl

    if dtype.is_integer():
        return "BIGINT"
    if dtype.is_float():
        return "DOUBLE PRECISION"
    if isinstance(dtype, pl.Decimal):
        return f"NUMERIC({dtype.precision or 38},{dtype.scale or 0})"
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if dtype == pl.Date:
        return "DATE"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    if dtype == pl.Time:
        return "TIME"
    return "TEXT"


class PgConnection:
    """A psycopg connection with the DuckDB-style surface the store code uses."""

    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection[Any], store: PostgresStore) -> None:
        self.raw = raw
        self.store = store

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        try:
            if params:
                cur.execute(to_pyformat(sql), list(params))
            else:
                cur.execute(sql)
        except Exception as exc:
            raise translate_error(exc, self.store) from exc
        return cur

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:
        """Copy a frame into the temporary table ``name`` (dropped by :meth:`unregister`)."""
        import polars as pl

        frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(pl.from_arrow(data))
        text_like = [c for c, t in frame.schema.items() if _pg_type(t) == "TEXT"]
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c in text_like)
        cols = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in frame.schema.items())
        self.execute(f"DROP TABLE IF EXISTS {name}")
        self.execute(f"CREATE TEMPORARY TABLE {name} ({cols})")
        self.copy_into(name, frame)

    def copy_into(self, table: str, frame: pl.DataFrame) -> None:
        """``COPY table (frame's columns) FROM STDIN``: CSV written by polars, in slices."""
        if frame.is_empty():
            return
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        sql = f"COPY {table} ({cols}) FROM STDIN (FORMAT csv, NULL '\\N')"
        try:
            with self.raw.cursor() as cur, cur.copy(sql) as copy:
                for part in frame.iter_slices(COPY_SLICE_ROWS):
                    body = part.write_csv(
                        include_header=False, null_value="\\N", quote_style="non_numeric"
                    )
                    copy.write(body.encode("utf-8"))
        except Exception as exc:
            raise translate_error(exc, self.store) from exc

    def unregister(self, name: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        self.raw.close()


def translate_error(exc: Exception, store: PostgresStore) -> Exception:
    """psycopg's errors as tidegate's: conflicts and lost connections are transient."""
    import psycopg
    from psycopg import errors

    from tidegate._redact import scrub

    if isinstance(exc, TidegateError):
        return exc
    text = scrub(str(exc).strip(), store.url)
    if isinstance(exc, errors.LockNotAvailable):
        from tidegate.store import _connect

        return StoreLockedError(
            f"another writer held the PostgreSQL store {store} for more than "
            f"{_connect.LOCK_WAIT_SECONDS:.0f}s; wait for the running flow to finish or "
            "raise TIDEGATE_LOCK_WAIT"
        )
    if isinstance(exc, errors.SerializationFailure | errors.DeadlockDetected):
        return TransientWriteConflictError(
            f"another transaction changed the same rows first ({text})"
        )
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, errors.QueryCanceled):
        return StoreUnavailableError(f"PostgreSQL store {store} stopped answering: {text}")
    if isinstance(exc, psycopg.Error):
        return StoreError(f"PostgreSQL store {store}: {text}")
    return exc


def open_connection(store: PostgresStore, *, read_only: bool = False) -> PgConnection:
    """Connect (autocommit; transactions are explicit). Unreachable is transient; a bad
    password or a missing database is not."""
    import psycopg

    from tidegate._redact import scrub

    conninfo = store.conninfo()
    try:
        raw = psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=f"tidegate:{os.getpid()}",
        )
    except psycopg.OperationalError as exc:
        text = scrub(str(exc).strip(), conninfo)
        lowered = text.lower()
        if "authentication" in lowered or "does not exist" in lowered or "role" in lowered:
            raise StoreError(
                f"cannot open the PostgreSQL store {store}: {text}; check the user, "
                "password and database name in --store / TIDEGATE_STORE"
            ) from None
        raise StoreUnavailableError(
            f"the PostgreSQL store {store} does not answer: {text}; check that the server "
            "is running and reachable"
        ) from None
    except psycopg.ProgrammingError as exc:
        raise StoreError(
            f"store URL {store} is not a valid PostgreSQL connection string: "
            f"{scrub(str(exc), conninfo)}"
        ) from None
    con = PgConnection(raw, store)
    # timestamps are UTC, as in the DuckDB store; readers cannot write by mistake
    settings = "SET TIME ZONE 'UTC'"
    if read_only:
        settings += "; SET default_transaction_read_only = on"
    con.execute(settings)
    return con


def _made(con: PgConnection) -> bool:
    """Has the first write made the store's tables yet? (its audit table)"""
    row = con.execute("SELECT to_regclass('audit') IS NOT NULL").fetchall()
    return bool(row and row[0][0])


@contextmanager
def pg_connect(store: PostgresStore, *, read_only: bool = False) -> Iterator[PgConnection]:
    con = open_connection(store, read_only=read_only)
    try:
        if read_only and not _made(con):
            raise StoreError(
                f"no tidegate store in {store} yet: nothing has been ingested "
                "(run `tidegate run SOURCE` with this --store first)"
            )
        yield con
    finally:
        con.close()


@contextmanager
def pg_read_if_made(store: PostgresStore) -> Iterator[PgConnection | None]:
    """A read-only connection, or None before the first write: one connection, and no
    writer lock, so a lookup never waits behind another writer's long commit."""
    con = open_connection(store, read_only=True)
    try:
        yield con if _made(con) else None
    finally:
        con.close()


@contextmanager
def pg_transaction(store: PostgresStore) -> Iterator[PgConnection]:
    """One connection, one transaction, writers one at a time per store schema."""
    with pg_connect(store) as con:
        try:
            with con.raw.transaction():
                from tidegate.store import _connect

                # wait for another writer as long as for a locked DuckDB file, then give
                # up with StoreLockedError (transient: the task is retried)
                wait_ms = max(1, int(_connect.LOCK_WAIT_SECONDS * 1000))
                con.execute(f"SET LOCAL lock_timeout = {wait_ms}")
                take_writer_lock(con)  # keyed by the resolved schema (_pg_schema)
                yield con
        except Exception as exc:
            translated = translate_error(exc, store)
            if translated is exc:
                raise
            raise translated from exc


def ensure_pg_store(con: PgConnection, store_ddl: str) -> None:
    """Create the schema, the tables and the audit triggers unless they are there; renew
    the audit guard of a store made by an older tidegate when this role owns it."""
    from tidegate.store._pg_triggers import ensure_audit_guard
    from tidegate.store._tables import LATER_CHECKPOINT_COLUMNS, quote_ident

    later = ", ".join(f"'{c}'" for c in LATER_CHECKPOINT_COLUMNS)
    first = store_schema(con)  # as PostgreSQL reads search_path: TG -> tg
    # the store's own tables, not a schema further down search_path that holds a store
    ready = con.execute(
        "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_chain_link' "
        "AND tgrelid = to_regclass(format('%I.audit', ?::text))), "
        "(SELECT count(*) FROM pg_attribute WHERE attrelid = "
        "to_regclass(format('%I.checkpoints', ?::text)) "
        f"AND attname IN ({later}) AND NOT attisdropped)",
        [first, first],
    ).fetchall()
    if ready and ready[0][0]:
        if ready[0][1] < len(LATER_CHECKPOINT_COLUMNS):  # a store made by an older tidegate
            _add_later_columns(con)
        ensure_audit_guard(con, required=False)
        return
    row = con.execute("SELECT current_schema()").fetchall()
    current = row[0][0] if row else None
    if not first:
        raise StoreError(f"PostgreSQL store {con.store}: no schema to create tables in")
    if first != current:  # `tg_x, public` on a fresh store: the tables go in tg_x
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(first)}")
    con.execute(store_ddl)
    con.execute(INDEX_DDL)
    ensure_audit_guard(con, required=True)


def _add_later_columns(con: PgConnection) -> None:
    """Add the checkpoint columns a store made by an older tidegate lacks."""
    from tidegate.store._tables import add_later_checkpoint_columns

    add_later_checkpoint_columns(con)  # type: ignore[arg-type]


def has_store_tables(store: PostgresStore) -> bool:
    with pg_read_if_made(store) as con:
        return con is not None
