"""The store: the one place that writes target tables, quarantine, audit and checkpoints.

Every query, lock and transaction is here, behind the :class:`Store` protocol and its
two implementations, :class:`DuckDBStore` (a file, the default) and
:class:`PostgresStore` (a database, for a team); :func:`open_store` makes one from a
``--store`` value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate._lazy import lazy_exports

if TYPE_CHECKING:
    from tidegate.errors import ReadQueryError
    from tidegate.store._audit_log import (
        GENESIS_HASH,
        AuditEntry,
        append_audit,
        canonical_json,
        default_actor,
        entry_hash,
        read_audit,
    )
    from tidegate.store._audit_reads import AuditMatch, read_chain
    from tidegate.store._batches import commit_batch, commit_file_reject, record_source_failure
    from tidegate.store._committed import (
        BatchOutcome,
        CommittedBatch,
        lookup_committed,
        record_skip,
    )
    from tidegate.store._connect import connect, default_store_path, read_if_made, transaction
    from tidegate.store._duckdb import DuckDBStore
    from tidegate.store._location import open_store
    from tidegate.store._pg_store import PostgresStore
    from tidegate.store._protocol import AuditProtection, QueryResult, Store, StoreLike
    from tidegate.store._tables import ensure_store_tables, store_tables

# name -> the module it lives in (imported on first use: the batch writer imports polars)
_NAMES = {
    "append_audit": "tidegate.store._audit_log",
    "AuditEntry": "tidegate.store._audit_log",
    "AuditMatch": "tidegate.store._audit_reads",
    "AuditProtection": "tidegate.store._protocol",
    "BatchOutcome": "tidegate.store._committed",
    "canonical_json": "tidegate.store._audit_log",
    "commit_batch": "tidegate.store._batches",
    "commit_file_reject": "tidegate.store._batches",
    "CommittedBatch": "tidegate.store._committed",
    "connect": "tidegate.store._connect",
    "default_actor": "tidegate.store._audit_log",
    "default_store_path": "tidegate.store._connect",
    "DuckDBStore": "tidegate.store._duckdb",
    "ensure_store_tables": "tidegate.store._tables",
    "entry_hash": "tidegate.store._audit_log",
    "GENESIS_HASH": "tidegate.store._audit_log",
    "lookup_committed": "tidegate.store._committed",
    "open_store": "tidegate.store._location",
    "PostgresStore": "tidegate.store._pg_store",
    "QueryResult": "tidegate.store._protocol",
    "read_audit": "tidegate.store._audit_log",
    "read_chain": "tidegate.store._audit_reads",
    "read_if_made": "tidegate.store._connect",
    "ReadQueryError": "tidegate.errors",
    "record_skip": "tidegate.store._committed",
    "record_source_failure": "tidegate.store._batches",
    "Store": "tidegate.store._protocol",
    "store_tables": "tidegate.store._tables",
    "StoreLike": "tidegate.store._protocol",
    "transaction": "tidegate.store._connect",
}

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditMatch",
    "AuditProtection",
    "BatchOutcome",
    "CommittedBatch",
    "DuckDBStore",
    "PostgresStore",
    "QueryResult",
    "ReadQueryError",
    "Store",
    "StoreLike",
    "append_audit",
    "canonical_json",
    "commit_batch",
    "commit_file_reject",
    "connect",
    "default_actor",
    "default_store_path",
    "ensure_store_tables",
    "entry_hash",
    "lookup_committed",
    "open_store",
    "read_audit",
    "read_chain",
    "read_if_made",
    "record_skip",
    "record_source_failure",
    "store_tables",
    "transaction",
]

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
