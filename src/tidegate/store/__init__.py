"""The store: the one place that writes target tables, quarantine, audit and checkpoints.

Every query, lock and transaction is here, behind the :class:`Store` protocol and its
two implementations, :class:`DuckDBStore` (a file, the default) and
:class:`PostgresStore` (a database, for a team); :func:`open_store` makes one from a
``--store`` value.
"""

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
from tidegate.store._committed import BatchOutcome, CommittedBatch, lookup_committed, record_skip
from tidegate.store._connect import connect, default_store_path, read_if_made, transaction
from tidegate.store._duckdb import DuckDBStore
from tidegate.store._location import open_store
from tidegate.store._pg_store import PostgresStore
from tidegate.store._protocol import AuditProtection, QueryResult, Store, StoreLike
from tidegate.store._tables import ensure_store_tables, store_tables

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
