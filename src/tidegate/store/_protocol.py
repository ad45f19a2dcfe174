"""The Store protocol: the one interface through which tidegate reads and writes a store.

Two implementations speak it: :class:`~tidegate.store.DuckDBStore` (a file, the
default) and :class:`~tidegate.store.PostgresStore` (a database, for a team). A store
object owns everything that differs between them: how a connection is opened, how a
transaction takes turns with other writers, whether the store is made yet, the
per-source run lock, the read-only query of ``tidegate audit sql``, and how the store
is named to a child process. Code outside :mod:`tidegate.store` calls these methods
(or the store's named query functions) and never asks which engine it is talking to.

Every implementation is a frozen dataclass: hashable, picklable (Prefect and Dask hand
a store to tasks in other processes), and ``str(store)`` is its location as a person
may see it (a PostgreSQL password never shows).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

if TYPE_CHECKING:
    import duckdb

    # The connection surface store code is written against: DuckDB's own connection,
    # or a PostgreSQL connection dressed in the same few methods (see _postgres).
    Connection: TypeAlias = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class QueryResult:
    """What a read-only query returned: column names, at most ``limit`` rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows matched than the limit allowed


@dataclass(frozen=True)
class AuditProtection:
    """How the database itself guards the audit table (a backend that can)."""

    triggers: frozenset[str]  # the append-only triggers present and enabled on ``audit``
    role: str  # the role this store connects as
    owns_audit: bool  # that role owns the audit table (and so could drop the triggers)
    superuser: bool
    # trigger functions whose search_path is not pinned: a writer's session could shadow
    # what they read (a temporary ``audit`` table) and so get past them
    unpinned_functions: frozenset[str] = frozenset()
    # functions, operators, triggers and rules in the store's schema that tidegate did not
    # make: a writer's look-alike there runs with the privileges of whoever uses the store
    foreign_objects: frozenset[str] = frozenset()
    # the role `tidegate audit sql` runs as (the store's reader role when this role may
    # take it, else this role) and whether that one is a superuser
    query_role: str = ""
    query_superuser: bool = False


class Store(Protocol):
    """Where tidegate keeps target tables, quarantine, audit, checkpoints and profiles."""

    has_roles: ClassVar[bool]  # can grant database roles (`tidegate store init --grant-writer`)

    def __str__(self) -> str:
        """The location to show a person: the file path, or the URL without its password."""
        ...

    def connect(
        self, *, read_only: bool = False, wait_seconds: float | None = None
    ) -> AbstractContextManager[Connection]:
        """A short-lived connection for one operation, closed when the block ends.

        ``read_only``: the store must be made already (else StoreError saying what to
        run). ``wait_seconds``: how long to wait for a store another process holds
        (default ``$TIDEGATE_LOCK_WAIT``), then StoreLockedError (transient).
        """
        ...

    def transaction(self) -> AbstractContextManager[Connection]:
        """One connection, one transaction under the store's writer lock: writers take
        turns; commit when the block ends, roll back on any error."""
        ...

    def read_if_made(self) -> AbstractContextManager[Connection | None]:
        """A connection for a lookup that means nothing before the first write (was this
        batch committed? the last watermark?), or None while the store holds nothing."""
        ...

    def kept_open(self) -> AbstractContextManager[None]:
        """Keep the store open across the block's operations, each still its own
        connection and transaction (a bulk replay's pages): DuckDB then checkpoints its
        file when its log fills, not when each page's connection closes. Nothing on a
        server store."""
        ...

    def exists(self) -> bool:
        """Is there a store here yet? (the DuckDB file; the PostgreSQL audit table)"""
        ...

    def source_lock(
        self, source: str, on_busy: str = "wait", wait_seconds: float | None = None
    ) -> AbstractContextManager[bool]:
        """Hold ``source``'s run lock for the block (one run per source at a time, across
        processes and machines); yields True when held, False when busy and
        ``on_busy="skip"``."""
        ...

    def read_only_query(
        self, sql: str, *, limit: int, wait_seconds: float | None = None, parsed: Any = None
    ) -> QueryResult:
        """Run one SELECT where the database itself refuses any write, in a transaction
        that is always rolled back; at most ``limit`` rows. ``parsed`` is DuckDB's
        parsed statement of ``sql`` (run instead of the text, on a DuckDB store)."""
        ...

    def audit_protection(self, wait_seconds: float | None = None) -> AuditProtection | None:
        """How the database enforces the append-only audit, or None where it cannot
        (a DuckDB file can be rewritten by whoever may write the file)."""
        ...

    def driver_errors(self) -> tuple[type[Exception], ...]:
        """What reading this store may raise besides tidegate's own errors (the driver's
        exceptions), for a caller that reports a failure instead of crashing."""
        ...

    def translate_error(self, exc: Exception) -> Exception:
        """A driver's exception as tidegate's, its text free of any password."""
        ...

    def unreachable_hint(self) -> str:
        """What a person should check when this store cannot be read."""
        ...

    def argument(self) -> str:
        """The store as ``--store`` for a child process or a deployment parameter: an
        absolute file path, or the URL as written (``${ENV}`` references left for the
        process that opens it). May hold a password: pass it on, never print it."""
        ...

    def label(self) -> str:
        """The store as a saved record names it (an audit checkpoint): the absolute file
        path, or the URL without its password."""
        ...


StoreLike: TypeAlias = Store | Path | str  # what store functions accept (see open_store)
