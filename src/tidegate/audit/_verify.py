"""Recompute the audit hash chain and name the first entry that does not verify; then
check the entries' signatures (:mod:`tidegate.audit._signatures`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
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


class _ChainWalk:
    """Checks sequence continuity, links and hashes entry by entry, in order, passing on
    the entries that verified; the first break ends the walk (:meth:`report` names it)."""

    def __init__(self) -> None:
        self.prev_hash, self.expected_seq, self.count, self.head_seq = GENESIS_HASH, 1, 0, 0
        self.broken: ChainReport | None = None

    def intact(self, entries: Iterable[AuditEntry]) -> Iterator[AuditEntry]:
        for e in entries:
            fault = self._fault(e)
            if fault is not None:
                self.broken = ChainReport(self.count, self.head_seq, self.prev_hash, *fault)
                return
            self.prev_hash, self.expected_seq = e.hash, e.seq + 1
            self.count, self.head_seq = self.count + 1, e.seq
            yield e

    def _fault(self, e: AuditEntry) -> tuple[int, str] | None:
        """(the first bad seq, why), or None when ``e`` continues the chain."""
        if e.seq != self.expected_seq:
            what = "missing" if e.seq > self.expected_seq else "repeated or out of order"
            return self.expected_seq, f"seq {self.expected_seq} is {what} (found seq {e.seq} next)"
        if e.prev_hash != self.prev_hash:
            return e.seq, "prev_hash does not match the hash of the entry before it"
        if entry_hash(self.prev_hash, e.body()) != e.hash:
            return e.seq, "content does not match its hash (the row was edited)"
        return None

    def report(self) -> ChainReport:
        return self.broken or ChainReport(self.count, self.head_seq, self.prev_hash)


def verify_entries(entries: Iterable[AuditEntry]) -> ChainReport:
    """Check sequence continuity, links and hashes, in order; stop at the first break."""
    walk = _ChainWalk()
    for _ in walk.intact(entries):
        pass
    return walk.report()


@dataclass(frozen=True)
class KeptChain:
    """A chain verified as it streamed by, and the entries a view kept of it."""

    report: ChainReport
    entries: int  # every entry read, past a break too
    kept: list[AuditEntry] = field(default_factory=list)


def verify_keeping(
    store: Store, keep: Callable[[AuditEntry], bool], *, wait_seconds: float | None = None
) -> KeptChain | None:
    """Verify the store's chain (links and hashes, :func:`verify_entries`) as it is read
    by windows of seqs, keeping only the entries ``keep`` picks, past a break too (as a
    whole read would have them): memory holds one window and what is kept, never the
    whole chain. None while the store has no audit table. The doctor keeps its sources'
    run events, the report the run events it draws."""
    from tidegate.store._audit_reads import stream_chain

    with stream_chain(store, wait_seconds=wait_seconds) as entries:
        if entries is None:
            return None
        kept: list[AuditEntry] = []
        read = 0

        def watched() -> Iterator[AuditEntry]:
            nonlocal read
            for e in entries:
                read += 1
                if keep(e):
                    kept.append(e)
                yield e

        stream = watched()
        report = verify_entries(stream)
        for _ in stream:  # the walk stopped at a break: the rest for the view
            pass
        return KeptChain(report, read, kept)


def verify_chain(store: Store, public_key: Path | None = None) -> ChainReport:
    """Read the audit table (read-only, a page at a time: memory does not grow with the
    chain) and the recorded keys, verify the chain, then every signature, trusting
    ``public_key`` (else the local key file, else only the store's keys; see
    :func:`tidegate.audit._signatures.trust_anchor`)."""
    from tidegate.store._audit_reads import stream_chain_and_keys

    with stream_chain_and_keys(store) as read:
        if read is None:
            return ChainReport(0, 0, GENESIS_HASH)
        entries, recorded = read
        return verify_signed(entries, recorded, public_key)


def verify_signed(
    entries: Iterable[AuditEntry], recorded: dict[str, str], public_key: Path | None = None
) -> ChainReport:
    """:func:`verify_entries`, then the signatures of the intact chain, in one pass over
    ``entries`` (which may be a stream): a break in the chain is the report, else the
    first bad signature, else both are good."""
    from tidegate.audit._signatures import check_signatures, trust_anchor

    anchor = trust_anchor(public_key)
    walk = _ChainWalk()
    checked = walk.intact(entries)
    signatures = check_signatures(checked, recorded, anchor)
    for _ in checked:  # a bad signature ended the check early: the chain to its end
        pass
    report = walk.report()
    if not report.ok:
        return report
    report = replace(report, signatures=signatures)
    if signatures.ok:
        return report
    return replace(
        report, first_bad_seq=signatures.first_bad_seq, reason=signatures.reason, kind="signature"
    )
