"""The audit trail: verify the hash chain, query entries."""

from tidegate.audit._verify import ChainReport, verify_chain, verify_entries

__all__ = ["ChainReport", "verify_chain", "verify_entries"]
