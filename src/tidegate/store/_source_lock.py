"""One run per source at a time: a lock file next to a DuckDB store, held with
``fcntl.flock``, or, for a PostgreSQL store, a session advisory lock in that database (so
workers on different machines take turns too). Reached as ``store.source_lock(...)``.

Scheduled runs are also serialized by the deployment's concurrency limit; this lock
covers everything else (`tidegate run` twice, a run next to a served schedule).
The operating system drops the lock when the holding process dies, so a killed
run never leaves a source locked.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.errors import PipelineError

if TYPE_CHECKING:
    from tidegate.store._pg_store import PostgresStore

_held = threading.local()  # locks this thread holds: taking one again is a no-op


def lock_path(store: Path, source: str) -> Path:
    """``<store>.<source>.lock``, in the store's folder."""
    return store.with_name(f"{store.name}.{source}.lock")


def _held_here() -> set[object]:
    held: set[object] = _held.__dict__.setdefault("paths", set())
    return held


def _check_on_busy(on_busy: str) -> None:
    if on_busy not in ("wait", "skip"):
        raise PipelineError(f"on_busy: {on_busy!r} is not valid; expected wait or skip")


@contextmanager
def file_source_lock(
    store: Path, source: str, on_busy: str = "wait", wait_seconds: float | None = None
) -> Iterator[bool]:
    """Hold the source's lock file next to the DuckDB file ``store``. Yields True when held.

    Re-entrant within one thread (`tidegate run` may take it, then the flow again);
    other threads and processes wait or skip.

    ``on_busy="wait"`` blocks until the running one ends (at most ``wait_seconds``,
    if given, then raises); ``on_busy="skip"`` yields False at once when busy, and the
    caller returns without reading anything.
    """
    _check_on_busy(on_busy)
    held = _held_here()
    path = lock_path(store, source)
    key = path.resolve()
    if key in held:  # this thread holds it already (a locked caller runs the flow)
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _acquire(fd, on_busy, wait_seconds, path, source):
            yield False
            return
        held.add(key)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield True
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, on_busy: str, wait_seconds: float | None, path: Path, source: str) -> bool:
    if on_busy == "wait" and wait_seconds is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + (wait_seconds or 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if on_busy == "skip":
                return False
            if time.monotonic() >= deadline:
                raise PipelineError(
                    f"source {source!r} is still being ingested by another run after "
                    f"{wait_seconds:.0f}s (lock {path}); wait for it, or set "
                    "`concurrency: {on_busy: skip}` in its pipeline file"
                ) from None
            time.sleep(0.1)


_PG_LOCK_KEY = "hashtext(?)"  # of _pg_schema.source_lock_key: the resolved schema and source


@contextmanager
def pg_source_lock(
    store: PostgresStore, source: str, on_busy: str = "wait", wait_seconds: float | None = None
) -> Iterator[bool]:
    """Hold the source's advisory lock in the PostgreSQL store; as :func:`file_source_lock`
    (re-entrant within one thread, wait or skip when another run holds it)."""
    _check_on_busy(on_busy)
    held = _held_here()
    pg_key = (store.url, source)
    if pg_key in held:
        yield True
        return
    with _pg_lock(store, source, on_busy, wait_seconds) as got:
        if got:
            held.add(pg_key)
        try:
            yield got
        finally:
            held.discard(pg_key)


@contextmanager
def _pg_lock(
    store: PostgresStore, source: str, on_busy: str, wait_seconds: float | None
) -> Iterator[bool]:
    """A session advisory lock on (store schema, source) on a connection of its own;
    PostgreSQL drops it when the holder's connection ends, even if the process dies."""
    from tidegate.store._pg_schema import source_lock_key
    from tidegate.store._postgres import pg_connect

    with pg_connect(store) as con:
        key = source_lock_key(con, source)
        if on_busy == "wait" and wait_seconds is None:
            con.execute(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})", [key])
        else:
            deadline = time.monotonic() + (wait_seconds or 0)
            while not con.execute(f"SELECT pg_try_advisory_lock({_PG_LOCK_KEY})", [key]).fetchall()[
                0
            ][0]:
                if on_busy == "skip":
                    yield False
                    return
                if time.monotonic() >= deadline:
                    raise PipelineError(
                        f"source {source!r} is still being ingested by another run after "
                        f"{wait_seconds:.0f}s (advisory lock in {store}); wait for it, or set "
                        "`concurrency: {on_busy: skip}` in its pipeline file"
                    )
                time.sleep(0.1)
        try:
            yield True
        finally:
            con.execute(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})", [key])
