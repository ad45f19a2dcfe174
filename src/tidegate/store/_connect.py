"""Short-lived store connections: DuckDB with retry on lock contention, or PostgreSQL.

Each store operation opens a connection, runs one transaction and closes, so a
flow and a reviewer can take turns on the same file. DuckDB lets one process
write a file at a time; another process that finds it locked waits and retries
with backoff before giving up with :class:`StoreLockedError` (transient).
A PostgreSQL store (``postgresql://`` URL) gets the same two calls from
:mod:`tidegate.store._postgres`.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.errors import StoreError, StoreLockedError, TransientWriteConflictError
from tidegate.store._location import PostgresStore, Store, parse_store

if TYPE_CHECKING:
    import duckdb

DEFAULT_STORE = Path(".tidegate") / "tidegate.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("TIDEGATE_LOCK_WAIT", "30"))


def default_store_path(project_dir: Path | None = None) -> Store:
    """``$TIDEGATE_STORE`` (a file or a ``postgresql://`` URL) if set, else
    ``<project>/.tidegate/tidegate.duckdb``."""
    env = os.environ.get("TIDEGATE_STORE")
    if env:
        return parse_store(env)
    return (project_dir or Path.cwd()) / DEFAULT_STORE


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text)


def open_with_retry(path: Path, wait_seconds: float, **options: Any) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect(path, **options)``, retried with jittered backoff while another
    process holds the file's lock; StoreLockedError (transient) when it stays locked."""
    import duckdb

    deadline = time.monotonic() + wait_seconds
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), **options)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open store {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"store {path} stayed locked by another process for {wait_seconds:.0f}s; "
                    "wait for the running flow to finish or raise TIDEGATE_LOCK_WAIT"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)


@contextmanager
def connect(
    path: Store, *, read_only: bool = False, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store, retrying with jittered backoff while another process holds it."""
    if isinstance(path, PostgresStore):
        from tidegate.store._postgres import pg_connect

        with pg_connect(path, read_only=read_only) as pg:
            yield pg  # type: ignore[misc]  # the same surface, see tidegate.store._postgres
        return
    budget = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    if read_only and not path.exists():
        raise StoreError(
            f"no store at {path}: nothing has been ingested yet "
            "(run `tidegate demo` or `tidegate run SOURCE`, or set TIDEGATE_STORE)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Always the same configuration: DuckDB refuses a read-only and a read-write
    # connection to one file in the same process (the review app's threads).
    # ``read_only`` only means "the store must exist already".
    con = open_with_retry(path, budget)
    try:
        yield con
    finally:
        con.close()


_writers: dict[Path, threading.Lock] = {}
_writers_guard = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    with _writers_guard:
        return _writers.setdefault(path.resolve(), threading.Lock())


@contextmanager
def transaction(path: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """One connection, one transaction: commit on success, roll back on any error.

    Writers in one process (the review app's threads) take turns, so an optimistic
    version check sees the other writer's commit instead of a DuckDB write conflict;
    other processes take turns through the file lock.
    """
    if isinstance(path, PostgresStore):
        from tidegate.store._postgres import pg_transaction

        with pg_transaction(path) as pg:
            yield pg  # type: ignore[misc]
        return
    with _writer_lock(path), connect(path) as con:
        import duckdb

        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except duckdb.TransactionException as exc:
            _rollback(con)
            if "conflict" in str(exc).lower():
                raise TransientWriteConflictError(
                    f"another transaction changed the same rows first ({exc}); try again"
                ) from exc
            raise
        except BaseException:
            _rollback(con)
            raise


@contextmanager
def read_if_made(path: Store) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """For a lookup that means nothing before the first write (was this batch committed?
    the last watermark?): a connection, or None while the store holds nothing yet.

    DuckDB: the file's absence, else a transaction that brings an older store's tables
    up to date first. PostgreSQL: one read-only connection, without the writer lock.
    """
    if isinstance(path, PostgresStore):
        from tidegate.store._postgres import pg_read_if_made

        with pg_read_if_made(path) as pg:
            yield pg  # type: ignore[misc]
        return
    if not path.exists():
        yield None
        return
    from tidegate.store._tables import ensure_store_tables

    with transaction(path) as con:
        ensure_store_tables(con)
        yield con


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with suppress(duckdb.TransactionException):  # already rolled back by a failed commit
        con.execute("ROLLBACK")


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row or None, with the result fully consumed.

    DuckDB keeps a half-read result open after ``fetchone()``, which blocks a later
    ``register()`` on the same connection; reading all rows (one, here) does not.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
