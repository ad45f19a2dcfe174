"""Where the store lives: a DuckDB file (the default) or a PostgreSQL database (a team).

``--store`` / ``$TIDEGATE_STORE`` takes either a file path or a ``postgresql://`` URL.
A URL may carry ``${ENV}`` references (resolved when the store is opened) and libpq
options, e.g. ``?options=-csearch_path%3Dtidegate`` to keep the tables in their own
schema. The password never appears in messages: ``str(store)`` is the redacted URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class PostgresStore:
    """A store in a PostgreSQL database. Compares and hashes by URL."""

    url: str
    shown: str = field(compare=False, default="")

    def __post_init__(self) -> None:
        from tidegate._redact import redact

        object.__setattr__(self, "shown", redact(self.url))

    def __str__(self) -> str:
        return self.shown

    def conninfo(self) -> str:
        """The URL with ``${ENV}`` resolved, for the driver (never printed)."""
        from tidegate._env import expand_env
        from tidegate.errors import StoreError

        def missing(name: str) -> StoreError:
            return StoreError(
                f"store URL {self.shown} uses ${{{name}}} but the environment variable "
                f"{name} is not set; export it, or pass the URL with --store"
            )

        return expand_env(self.url, missing)[0]

    def exists(self) -> bool:
        """Does the database hold a tidegate store yet? (its audit table)"""
        from tidegate.store._postgres import has_store_tables

        return has_store_tables(self)


Store: TypeAlias = Path | PostgresStore


def parse_store(value: str | Path) -> Store:
    """A ``postgresql://`` URL becomes a :class:`PostgresStore`; anything else is a file."""
    text = str(value)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresStore(text)
    return Path(text)
