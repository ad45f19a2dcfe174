"""The PostgreSQL store as a :class:`~tidegate.store.Store`: a team's shared database.

``--store`` / ``$TIDEGATE_STORE`` takes a ``postgresql://`` URL. It may carry ``${ENV}``
references (resolved when the store is opened) and libpq options, e.g.
``?options=-csearch_path%3Dtidegate`` to keep the tables in their own schema. The
password never appears in messages: ``str(store)`` is the redacted URL. The connection
surface, the audit triggers and the writer lock are in :mod:`tidegate.store._postgres`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import AuditProtection, QueryResult

# Who the connecting role is (the enabled triggers and the unpinned functions:
# tidegate.store._pg_triggers).
_ROLE_SQL = (
    "SELECT current_user, pg_get_userbyid(c.relowner) = current_user, r.rolsuper "
    "FROM pg_class c, pg_roles r WHERE c.oid = to_regclass('audit') "
    "AND r.rolname = current_user"
)


@dataclass(frozen=True)
class PostgresStore:
    """A store in a PostgreSQL database. Compares and hashes by URL."""

    url: str
    shown: str = field(compare=False, default="")
    has_roles: ClassVar[bool] = True

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

    @contextmanager
    def connect(
        self, *, read_only: bool = False, wait_seconds: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection of its own (``read_only``: the store must be made, and the session
        cannot write). ``wait_seconds`` is unused: opening never waits for a writer."""
        from tidegate.store._postgres import pg_connect

        with pg_connect(self, read_only=read_only) as pg:
            yield pg  # type: ignore[misc]  # the same surface, see tidegate.store._postgres

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One connection, one transaction; it first takes the transaction-scoped advisory
        lock on the store's schema (the writer lock), waiting ``$TIDEGATE_LOCK_WAIT``."""
        from tidegate.store._postgres import pg_transaction

        with pg_transaction(self) as pg:
            yield pg  # type: ignore[misc]

    @contextmanager
    def read_if_made(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """One read-only connection, without the writer lock (a lookup never waits behind
        another writer's long commit), or None before the first write."""
        from tidegate.store._postgres import pg_read_if_made

        with pg_read_if_made(self) as pg:
            yield pg  # type: ignore[misc]

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Nothing to keep: each connection of a server store is its own."""
        yield

    def exists(self) -> bool:
        """Does the database hold a tidegate store yet? (its audit table)"""
        from tidegate.store._postgres import has_store_tables

        return has_store_tables(self)

    @contextmanager
    def source_lock(
        self, source: str, on_busy: str = "wait", wait_seconds: float | None = None
    ) -> Iterator[bool]:
        """Hold a session advisory lock on (store schema, ``source``) for the block, so
        workers on other machines take turns too; see
        :func:`tidegate.store._source_lock.pg_source_lock`."""
        from tidegate.store._source_lock import pg_source_lock

        with pg_source_lock(self, source, on_busy, wait_seconds) as held:
            yield held

    def read_only_query(
        self, sql: str, *, limit: int, wait_seconds: float | None = None, parsed: Any = None
    ) -> QueryResult:
        """Run ``sql`` in a READ ONLY transaction with a statement timeout, rolled back;
        ``wait_seconds`` and ``parsed`` are unused (DuckDB's)."""
        from tidegate.store._read_query import pg_read_only_query

        return pg_read_only_query(self, sql, limit)

    def audit_protection(self, wait_seconds: float | None = None) -> AuditProtection | None:
        """The enabled append-only triggers on ``audit``, the trigger functions that do not
        pin their search_path, the functions and operators in the store's schema that are
        not tidegate's, and the connecting role's powers."""
        from tidegate.store._pg_reader import query_role
        from tidegate.store._pg_triggers import (
            ENABLED_TRIGGERS_SQL,
            FOREIGN_OBJECTS_SQL,
            UNPINNED_FUNCTIONS_SQL,
        )
        from tidegate.store._protocol import AuditProtection

        def names(sql: str) -> frozenset[str]:
            return frozenset(str(r[0]) for r in con.execute(sql).fetchall())

        with self.connect(read_only=True, wait_seconds=wait_seconds) as con:
            triggers, unpinned = names(ENABLED_TRIGGERS_SQL), names(UNPINNED_FUNCTIONS_SQL)
            foreign = names(FOREIGN_OBJECTS_SQL)
            role, owns, superuser = con.execute(_ROLE_SQL).fetchall()[0]
            reads_as, reads_as_superuser = query_role(con)
        return AuditProtection(
            triggers,
            str(role),
            bool(owns),
            bool(superuser),
            unpinned,
            foreign,
            query_role=reads_as,
            query_superuser=reads_as_superuser,
        )

    def driver_errors(self) -> tuple[type[Exception], ...]:
        """``psycopg.Error`` (the store's own failures arrive as tidegate's errors)."""
        import psycopg

        return (psycopg.Error,)

    def translate_error(self, exc: Exception) -> Exception:
        """psycopg's errors as tidegate's, the password scrubbed from the text."""
        from tidegate.store._postgres import translate_error

        return translate_error(exc, self)

    def unreachable_hint(self) -> str:
        """Check the server, the network and the URL's user, password and database."""
        return (
            "check that the PostgreSQL server is running and reachable from here, and the "
            "user, password and database in --store / TIDEGATE_STORE"
        )

    def argument(self) -> str:
        """The URL as written (its ``${ENV}`` references are resolved by whoever opens it)."""
        return self.url

    def label(self) -> str:
        """The URL without its password."""
        return self.shown
