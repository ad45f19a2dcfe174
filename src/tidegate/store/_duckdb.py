"""The embedded store: one DuckDB file, with retry on lock contention.

Each store operation opens a connection, runs one transaction and closes, so a
flow and a reviewer can take turns on the same file. DuckDB lets one process
write a file at a time; another process that finds it locked waits and retries
with backoff before giving up with :class:`StoreLockedError` (transient). Within
one process, writers take turns on a lock per file (the writer lock).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tidegate.errors import (
    ConfigError,
    StoreError,
    StoreLockedError,
    TransientWriteConflictError,
)

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import AuditProtection, QueryResult


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
                text = " ".join(str(exc).split())
                raise StoreError(
                    f"cannot open store {path}: {text}; check that the file and its folder "
                    "can be written, or point --store (TIDEGATE_STORE) at a writable place"
                ) from exc
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"store {path} stayed locked by another process for {wait_seconds:.0f}s; "
                    "wait for the running flow to finish or raise TIDEGATE_LOCK_WAIT"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)


def make_store_folder(path: Path) -> None:
    """Create the store file's folder; StoreError naming it when it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StoreError(
            f"cannot create the store folder {path.parent} ({reason}) for store {path}; "
            "create it yourself with write access, or point --store (TIDEGATE_STORE) at a "
            "writable place"
        ) from None


MEMORY_ENV = "TIDEGATE_DUCKDB_MEMORY"
DEFAULT_MEMORY = "1GB"


def limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Cap DuckDB's memory (``$TIDEGATE_DUCKDB_MEMORY``, default 1GB): past it, a large
    join or aggregate (a file's duplicate keys over a hundred million rows) spills to
    ``<store>.tmp`` instead of growing the process (DuckDB's own default is 80% of RAM)."""
    import duckdb

    value = os.environ.get(MEMORY_ENV, DEFAULT_MEMORY)
    try:
        con.execute(f"SET memory_limit = '{value.replace(chr(39), '')}'")
        con.execute("SET enable_progress_bar = false")  # a long publish prints nothing
    except duckdb.Error as exc:
        raise ConfigError(
            f"{MEMORY_ENV}={value!r} is not a memory size DuckDB understands ({exc}); "
            "use e.g. 1GB, 512MB or 4GiB"
        ) from None


_writers: dict[Path, threading.Lock] = {}
_writers_guard = threading.Lock()


def _lock_wait(wait_seconds: float | None) -> float:
    from tidegate.store import _connect

    return _connect.LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with suppress(duckdb.TransactionException):  # already rolled back by a failed commit
        con.execute("ROLLBACK")


@dataclass(frozen=True)
class DuckDBStore:
    """A store in one DuckDB file (the default). Compares and hashes by path."""

    path: Path
    has_roles: ClassVar[bool] = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    def __str__(self) -> str:
        return str(self.path)

    @contextmanager
    def connect(
        self, *, read_only: bool = False, wait_seconds: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the file, retrying with jittered backoff while another process holds it.

        Always the same configuration: DuckDB refuses a read-only and a read-write
        connection to one file in the same process (the review app's threads), so
        ``read_only`` only means "the store must exist already".
        """
        if read_only and not self.path.exists():
            raise StoreError(
                f"no store at {self.path}: nothing has been ingested yet "
                "(run `tidegate demo` or `tidegate run SOURCE`, or set TIDEGATE_STORE)"
            )
        make_store_folder(self.path)
        con = open_with_retry(self.path, _lock_wait(wait_seconds))
        try:
            limit_memory(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """One connection held open for the block: the other connections this process
        opens meanwhile share its database, so closing them does not checkpoint the file
        (a checkpoint rewrites every row group a page updated: most of a bulk replay's
        CPU when each of its pages closed the file). DuckDB still checkpoints when its
        log passes ``checkpoint_threshold``, and when the block ends. The file stays
        locked to other processes for the block, as it is while each page writes."""
        with self.connect():
            yield

    def writer_lock(self) -> threading.Lock:
        """The lock this process's writers of the file take turns on (other processes are
        kept out by DuckDB's own file lock)."""
        with _writers_guard:
            return _writers.setdefault(self.path.resolve(), threading.Lock())

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One connection, one transaction: commit on success, roll back on any error.

        Writers in one process (the review app's threads) take turns, so an optimistic
        version check sees the other writer's commit instead of a DuckDB write conflict;
        other processes take turns through the file lock.
        """
        with self.writer_lock(), self.connect() as con:
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
    def read_if_made(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """None while the file is absent, else a transaction that brings an older store's
        tables up to date first."""
        if not self.path.exists():
            yield None
            return
        from tidegate.store._tables import ensure_store_tables

        with self.transaction() as con:
            ensure_store_tables(con)
            yield con

    def exists(self) -> bool:
        """Is the file there? (tidegate makes it on the first write)"""
        return self.path.exists()

    def source_lock_path(self, source: str) -> Path:
        """The lock file of ``source``'s runs: ``<store>.<source>.lock``, next to the file."""
        from tidegate.store._source_lock import lock_path

        return lock_path(self.path, source)

    @contextmanager
    def source_lock(
        self, source: str, on_busy: str = "wait", wait_seconds: float | None = None
    ) -> Iterator[bool]:
        """Hold ``source``'s lock file (``flock``) for the block; see
        :func:`tidegate.store._source_lock.file_source_lock`."""
        from tidegate.store._source_lock import file_source_lock

        with file_source_lock(self.path, source, on_busy, wait_seconds) as held:
            yield held

    def read_only_query(
        self, sql: str, *, limit: int, wait_seconds: float | None = None, parsed: Any = None
    ) -> QueryResult:
        """Run ``parsed`` (else ``sql``) on a read-only connection of its own, with no
        access outside the file; see :mod:`tidegate.store._read_query`."""
        from tidegate.store._read_query import duckdb_read_only_query

        return duckdb_read_only_query(self.path, sql, limit, _lock_wait(wait_seconds), parsed)

    def audit_protection(self, wait_seconds: float | None = None) -> AuditProtection | None:
        """None: a DuckDB file cannot refuse a rewrite of its audit table."""
        return None

    def driver_errors(self) -> tuple[type[Exception], ...]:
        """``duckdb.Error``."""
        import duckdb

        return (duckdb.Error,)

    def translate_error(self, exc: Exception) -> Exception:
        """DuckDB's errors as they are (they hold no secret)."""
        return exc

    def unreachable_hint(self) -> str:
        """Check the path and permissions, or wait for the flow that holds the file."""
        return "check the path and permissions; if a flow holds it, run doctor when it ends"

    def argument(self) -> str:
        """The absolute path of the file."""
        return str(self.path.resolve())

    def label(self) -> str:
        """The absolute path of the file."""
        return str(self.path.resolve())
