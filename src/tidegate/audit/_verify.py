"""Recompute the audit hash chain and name the first entry that does not verify; then
check the entries' signatures (:mod:`tidegate.audit._signatures`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.store import GENESIS_HASH, AuditEntry, entry_hash

if TYPE_CHECKING:
    from tidegate.audit._signatures import SignatureReport
    from tidegate.store import Store


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None
    kind: str = "chain"  # what broke: "chain" (hashes, links, seqs) or "signature"
    signatures: SignatureReport | None = None  # None: not checked (entries alone)

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


def verify_chain(store: Store, public_key: Path | None = None) -> ChainReport:
    """Read the whole audit table and the recorded keys (read-only), verify the chain,
    then every signature, trusting ``public_key`` (else the local key file, else only
    the store's keys; see :func:`tidegate.audit._signatures.trust_anchor`)."""
    from tidegate.store._audit_reads import read_chain_and_keys

    read = read_chain_and_keys(store)
    if read is None:
        return ChainReport(0, 0, GENESIS_HASH)
    entries, recorded = read
    return verify_signed(entries, recorded, public_key)


def verify_signed(
    entries: list[AuditEntry], recorded: dict[str, str], public_key: Path | None = None
) -> ChainReport:
    """:func:`verify_entries`, then the signatures of the intact chain."""
    from tidegate.audit._signatures import check_signatures, trust_anchor

    report = verify_entries(entries)
    if not report.ok:
        return report
    signatures = check_signatures(entries, recorded, trust_anchor(public_key))
    report = replace(report, signatures=signatures)
    if signatures.ok:
        return report
    return replace(
        report, first_bad_seq=signatures.first_bad_seq, reason=signatures.reason, kind="signature"
    )
