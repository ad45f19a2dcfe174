"""The audit trail: verify the hash chain (and against an exported checkpoint), query
entries with filters, run read-only SQL over the store, trace one record by its key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate._lazy import lazy_exports

if TYPE_CHECKING:
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

# name -> the module it lives in (imported on first use: a command imports what it runs)
_NAMES = {
    "AuditCheckpoint": "tidegate.audit._checkpoint",
    "AuditFilter": "tidegate.audit._filters",
    "AuditPage": "tidegate.audit._query",
    "AuditQueryError": "tidegate.errors",
    "ChainReport": "tidegate.audit._verify",
    "CheckpointReport": "tidegate.audit._checkpoint",
    "entries_of_batch": "tidegate.audit._query",
    "entry_by_seq": "tidegate.audit._query",
    "list_entries": "tidegate.audit._query",
    "make_checkpoint": "tidegate.audit._checkpoint",
    "parse_key": "tidegate.audit._trace",
    "parse_when": "tidegate.audit._filters",
    "QueryResult": "tidegate.audit._sql",
    "read_checkpoint": "tidegate.audit._checkpoint",
    "read_only_statement": "tidegate.audit._sql",
    "RecordTrace": "tidegate.audit._trace",
    "run_read_query": "tidegate.audit._sql",
    "trace_record": "tidegate.audit._trace",
    "verify_against": "tidegate.audit._checkpoint",
    "verify_chain": "tidegate.audit._verify",
    "verify_entries": "tidegate.audit._verify",
    "verify_store_against": "tidegate.audit._checkpoint",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
