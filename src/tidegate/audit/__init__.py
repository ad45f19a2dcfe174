"""The audit trail: verify the hash chain (and against an exported checkpoint), query
entries with filters, run read-only SQL over the store, trace one record by its key."""

from tidegate.audit._checkpoint import (
    AuditCheckpoint,
    CheckpointReport,
    make_checkpoint,
    read_checkpoint,
    verify_against,
    verify_store_against,
)
from tidegate.audit._filters import AuditFilter, parse_when
from tidegate.audit._query import AuditPage, entries_of_batch, entry_by_seq, list_entries
from tidegate.audit._sql import QueryResult, read_only_statement, run_read_query
from tidegate.audit._trace import RecordTrace, parse_key, trace_record
from tidegate.audit._verify import ChainReport, verify_chain, verify_entries
from tidegate.errors import AuditQueryError

__all__ = [
    "AuditCheckpoint",
    "AuditFilter",
    "AuditPage",
    "AuditQueryError",
    "ChainReport",
    "CheckpointReport",
    "QueryResult",
    "RecordTrace",
    "entries_of_batch",
    "entry_by_seq",
    "list_entries",
    "make_checkpoint",
    "parse_key",
    "parse_when",
    "read_checkpoint",
    "read_only_statement",
    "run_read_query",
    "trace_record",
    "verify_against",
    "verify_chain",
    "verify_entries",
    "verify_store_against",
]
