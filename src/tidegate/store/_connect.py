"""Short-lived store connections, for store code that is handed a store or a plain path.

Each store operation opens a connection, runs one transaction and closes, so a flow
and a reviewer can take turns on the same store. The functions here accept a
:class:`~tidegate.store.Store`, a path or a ``postgresql://`` URL (through
:func:`~tidegate.store.open_store`) and leave the how to the store's own methods:
:class:`~tidegate.store.DuckDBStore` retries a file another process holds,
:class:`~tidegate.store.PostgresStore` takes an advisory lock for writers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.store._location import open_store

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store, StoreLike

DEFAULT_STORE = Path(".tidegate") / "tidegate.duckdb"
# How long a writer waits for another (a locked file, PostgreSQL's writer lock); read
# at each use, so a test may lower it.
LOCK_WAIT_SECONDS = float(os.environ.get("TIDEGATE_LOCK_WAIT", "30"))


def default_store_path(project_dir: Path | None = None) -> Store:
    """``$TIDEGATE_STORE`` (a file or a ``postgresql://`` URL) if set, else
    ``<project>/.tidegate/tidegate.duckdb``."""
    env = os.environ.get("TIDEGATE_STORE")
    if env:
        return open_store(env)
    return open_store((project_dir or Path.cwd()) / DEFAULT_STORE)


@contextmanager
def connect(
    store: StoreLike, *, read_only: bool = False, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``store.connect(...)``: open the store for one operation (see :class:`Store`)."""
    with open_store(store).connect(read_only=read_only, wait_seconds=wait_seconds) as con:
        yield con


@contextmanager
def transaction(store: StoreLike) -> Iterator[duckdb.DuckDBPyConnection]:
    """``store.transaction()``: one connection, one transaction, writers one at a time;
    commit on success, roll back on any error."""
    with open_store(store).transaction() as con:
        yield con


@contextmanager
def kept_open(store: StoreLike) -> Iterator[None]:
    """``store.kept_open()``: the store kept open across the block's operations (a bulk
    replay's pages), so a DuckDB file is not checkpointed as each page closes it."""
    with open_store(store).kept_open():
        yield


@contextmanager
def read_if_made(store: StoreLike) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """``store.read_if_made()``: for a lookup that means nothing before the first write,
    a connection, or None while the store holds nothing yet."""
    with open_store(store).read_if_made() as con:
        yield con


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row or None, with the result fully consumed.

    DuckDB keeps a half-read result open after ``fetchone()``, which blocks a later
    ``register()`` on the same connection; reading all rows (one, here) does not.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
