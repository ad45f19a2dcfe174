"""Recompute the audit hash chain and name the first entry that does not verify."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tidegate.store import GENESIS_HASH, AuditEntry, entry_hash, read_chain

if TYPE_CHECKING:
    from tidegate.store import Store


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_entries(entries: Iterable[AuditEntry]) -> ChainReport:
    """Check sequence continuity, links and hashes, in order; stop at the first break."""
    prev_hash, expected_seq, count, head_seq = GENESIS_HASH, 1, 0, 0
    for e in entries:
        if e.seq != expected_seq:
            what = "missing" if e.seq > expected_seq else "repeated or out of order"
            return ChainReport(
                count,
                head_seq,
                prev_hash,
                expected_seq,
                f"seq {expected_seq} is {what} (found seq {e.seq} next)",
            )
        if e.prev_hash != prev_hash:
            return ChainReport(
                count,
                head_seq,
                prev_hash,
                e.seq,
                "prev_hash does not match the hash of the entry before it",
            )
        recomputed = entry_hash(prev_hash, e.body())
        if recomputed != e.hash:
            return ChainReport(
                count,
                head_seq,
                prev_hash,
                e.seq,
                "content does not match its hash (the row was edited)",
            )
        prev_hash, expected_seq, count, head_seq = e.hash, e.seq + 1, count + 1, e.seq
    return ChainReport(count, head_seq, prev_hash)


def verify_chain(store: Store) -> ChainReport:
    """Read the whole audit table (read-only) and verify it."""
    entries = read_chain(store)
    if entries is None:
        return ChainReport(0, 0, GENESIS_HASH)
    return verify_entries(entries)
