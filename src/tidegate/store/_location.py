"""Where the store lives: a DuckDB file (the default) or a PostgreSQL database (a team).

``--store`` / ``$TIDEGATE_STORE`` takes either a file path or a ``postgresql://`` URL;
:func:`open_store` turns either into a :class:`~tidegate.store.Store`.
"""

from __future__ import annotations

from pathlib import Path

from tidegate.store._duckdb import DuckDBStore
from tidegate.store._pg_store import PostgresStore
from tidegate.store._protocol import Store, StoreLike

POSTGRES_SCHEMES = ("postgresql://", "postgres://")

__all__ = ["POSTGRES_SCHEMES", "DuckDBStore", "PostgresStore", "Store", "open_store"]


def open_store(value: StoreLike) -> Store:
    """The store ``value`` names: a ``postgresql://`` (or ``postgres://``) URL is a
    :class:`PostgresStore`, any other text or path a :class:`DuckDBStore` of that file,
    and a store comes back as it is."""
    if not isinstance(value, str | Path):
        return value
    text = str(value)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresStore(text)
    return DuckDBStore(Path(text))
