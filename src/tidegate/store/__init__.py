"""The store: the one place that writes target tables, quarantine, audit and checkpoints."""

from tidegate.store._audit_log import (
    GENESIS_HASH,
    AuditEntry,
    append_audit,
    canonical_json,
    default_actor,
    entry_hash,
    read_audit,
)
from tidegate.store._batches import (
    BatchOutcome,
    CommittedBatch,
    commit_batch,
    commit_file_reject,
    lookup_committed,
    record_skip,
    record_source_failure,
)
from tidegate.store._connect import connect, default_store_path, transaction
from tidegate.store._location import Store
from tidegate.store._location import parse_store as open_store
from tidegate.store._tables import ensure_store_tables

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "BatchOutcome",
    "CommittedBatch",
    "Store",
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
    "record_skip",
    "record_source_failure",
    "transaction",
]
