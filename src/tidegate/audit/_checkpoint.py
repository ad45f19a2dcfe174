"""Export the head of the audit chain, and compare a chain against an exported head.

The hash chain alone shows an edit, a deletion, a reorder or an insertion *inside*
the chain. It cannot show that the newest entries were cut off, nor that someone
recomputed every hash after rewriting an old entry: the shorter or rewritten chain
is internally consistent. A checkpoint kept somewhere else (a ticket, another
machine, a signed commit) closes that gap: the chain must still reach the
checkpoint's seq, and the entry at that seq must still have the checkpoint's hash
(which, through the chain, pins every entry before it).

`tidegate audit checkpoint` writes a C2SP signed note (:mod:`tidegate.audit._signed_note`):
origin ``tidegate.audit/<first 16 hex digits of entry 1's hash>`` (the chain's own
name, the same wherever the store is copied), the entry count as tree size, the head
hash in base64 as root hash, signed by the audit key (key name
``tidegate.audit/<key id>``), so an edited checkpoint (another size or hash) fails its
signature. The JSON checkpoints of earlier versions are still read (unsigned).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.audit._filters import AT_FORMAT
from tidegate.audit._verify import ChainReport, verify_entries
from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry, open_store

if TYPE_CHECKING:
    from tidegate.audit._signatures import TrustAnchor
    from tidegate.store import Store
    from tidegate.store._audit_signer import AuditSigner

CHECKPOINT_FORMAT = "tidegate-audit-checkpoint/1"
NOTE_FORMAT = "c2sp-signed-note"
ORIGIN_PREFIX = "tidegate.audit/"
# the note's extension line naming the chain's first signed seq: stripping every
# signature (which leaves the hashes as they were) is then seen too
SIGNED_FROM = "tidegate-signed-from"


_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class AuditCheckpoint:
    entries: int
    head_seq: int
    head_hash: str
    head_at: str | None  # the head entry's "at"
    exported_at: str
    store: str = ""
    format: str = CHECKPOINT_FORMAT
    origin: str = ""  # the chain's name (empty in an old JSON checkpoint)
    note: str | None = None  # the signed note it was read from
    signed_from: int | None = None  # the chain's first signed seq (None: unknown/unsigned)

    def to_json(self) -> str:
        data = asdict(self)
        for name in ("origin", "note", "signed_from"):
            data.pop(name)
        return json.dumps(data, indent=2) + "\n"

    def to_signed_note(self, signer: AuditSigner) -> str:
        """This checkpoint as a C2SP signed note, signed by ``signer``."""
        from tidegate.audit._signed_note import CheckpointBody, sign_note

        extra = () if self.signed_from is None else (f"{SIGNED_FROM} {self.signed_from}",)
        body = CheckpointBody(self.origin, self.entries, bytes.fromhex(self.head_hash), extra)
        return sign_note(body.text(), note_key_name(signer.key_id), signer.public, signer.sign)


def note_key_name(key_id: str) -> str:
    """The signed-note key name of an audit key."""
    return f"{ORIGIN_PREFIX}{key_id}"


def make_checkpoint(store: Store, entries: Iterable[AuditEntry] | None = None) -> AuditCheckpoint:
    """The verified head of the store's chain (read by windows of seqs, so memory does
    not grow with it; or ``entries``); refuses to pin a chain that is broken."""
    from contextlib import nullcontext
    from datetime import UTC, datetime

    from tidegate.store._audit_reads import stream_chain

    facts = ChainFacts(0)
    with stream_chain(store) if entries is None else nullcontext(entries) as chain:
        report = verify_entries(facts.watch(chain or ()))
    if not report.ok:
        raise AuditQueryError(
            f"not exporting a checkpoint: the chain is broken at seq {report.first_bad_seq} "
            f"({report.reason}); run `tidegate audit verify` and investigate first"
        )
    return AuditCheckpoint(
        entries=report.entries,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        head_at=facts.last_at,
        exported_at=datetime.now(UTC).strftime(AT_FORMAT),
        store=open_store(store).label(),
        origin=facts.origin(),
        signed_from=facts.first_signed,
    )


def checkpoint_signer() -> AuditSigner:
    """The local audit key, to sign a checkpoint with (a key file only: no Prefect)."""
    from tidegate.store._audit_signer import KEY_ENV, key_file_path, read_key_file

    path = key_file_path()
    signer = read_key_file(path)
    if signer is None:
        raise AuditQueryError(
            f"no audit key at {path} to sign the checkpoint with; point {KEY_ENV} at the "
            "store's key file (a key kept only in a Prefect block cannot sign here)"
        )
    return signer


def _read_note(path: Path, text: str, hint: str) -> AuditCheckpoint:
    from tidegate.audit._signed_note import parse_checkpoint_body, parse_note
    from tidegate.errors import SignedNoteError

    try:
        body = parse_checkpoint_body(parse_note(text).text)
    except SignedNoteError as exc:
        raise AuditQueryError(
            f"{path} is neither a signed checkpoint note nor a tidegate JSON checkpoint "
            f"({exc}); {hint}"
        ) from None
    if not body.origin.startswith(ORIGIN_PREFIX):
        raise AuditQueryError(
            f"checkpoint {path}: origin {body.origin!r} is not a tidegate audit chain "
            f"({ORIGIN_PREFIX}...); {hint}"
        )
    if len(body.root_hash) != 32:
        raise AuditQueryError(
            f"checkpoint {path}: the root hash is {len(body.root_hash)} bytes, not 32; {hint}"
        )
    signed_from = None
    for line in body.extensions:
        word, _, value = line.partition(" ")
        if word == SIGNED_FROM and value.isdigit():
            signed_from = int(value)
    return AuditCheckpoint(
        signed_from=signed_from,
        entries=body.size,
        head_seq=body.size,
        head_hash=body.root_hash.hex(),
        head_at=None,
        exported_at="",
        format=NOTE_FORMAT,
        origin=body.origin,
        note=text,
    )


def check_note_signature(
    checkpoint: AuditCheckpoint, recorded: dict[str, str], anchor: TrustAnchor
) -> str | None:
    """None when the checkpoint's note is signed by a trusted key (the anchor's, else
    one the store records) or is an old unsigned JSON checkpoint; else the problem."""
    import base64

    from tidegate.audit._signed_note import parse_note, verify_note

    if checkpoint.note is None:
        return None
    note = parse_note(checkpoint.note)
    keys = anchor.keys or {k: base64.b64decode(v) for k, v in recorded.items()}
    for key_id, public in sorted(keys.items()):
        good = verify_note(note, note_key_name(key_id), public)
        if good is False:
            return (
                f"the checkpoint's signature by key {key_id} does not match its text "
                "(the file was edited after it was signed)"
            )
        if good:
            return None
    names = ", ".join(s.name for s in note.signatures)
    trusted = anchor.describe() if anchor.keys else "the store's recorded keys"
    return f"the checkpoint is signed by {names}, none of them a key of {trusted}"


def read_checkpoint(path: Path) -> AuditCheckpoint:
    """Load a checkpoint file, naming the file and the field that is wrong."""
    hint = "export a fresh one with `tidegate audit checkpoint -o FILE`"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditQueryError(f"no checkpoint file at {path}; {hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditQueryError(f"checkpoint {path} is not readable text ({exc}); {hint}") from None
    if not text.lstrip().startswith("{"):
        return _read_note(path, text, hint)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AuditQueryError(f"checkpoint {path} is not readable JSON ({exc}); {hint}") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise AuditQueryError(
            f"{path} is not a tidegate audit checkpoint (expected format "
            f"{CHECKPOINT_FORMAT!r}); {hint}"
        )
    for name in ("entries", "head_seq"):
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise AuditQueryError(
                f"checkpoint {path}: {name} {value!r} is not a whole number >= 0; {hint}"
            )
    if data["entries"] != data["head_seq"]:
        raise AuditQueryError(
            f"checkpoint {path}: entries {data['entries']} and head_seq {data['head_seq']} "
            f"differ, which no intact chain produces (seqs run 1..n); {hint}"
        )
    head_hash = data.get("head_hash")
    if not isinstance(head_hash, str) or len(head_hash) != 64 or not set(head_hash) <= _HEX:
        raise AuditQueryError(
            f"checkpoint {path}: head_hash {head_hash!r} is not 64 lowercase hex digits; {hint}"
        )
    return AuditCheckpoint(
        entries=data["entries"],
        head_seq=data["head_seq"],
        head_hash=head_hash,
        head_at=data.get("head_at"),
        exported_at=str(data.get("exported_at", "")),
        store=str(data.get("store", "")),
    )


@dataclass(frozen=True)
class CheckpointReport:
    """The chain's own report, plus whether it still agrees with a checkpoint."""

    chain: ChainReport
    checkpoint: AuditCheckpoint
    problem: str | None = None  # None: the chain extends the checkpoint intact

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.problem is None


class ChainFacts:
    """What a checkpoint records or is compared with, noted while the chain streams past
    (so the chain need not be held): the first entry's hash (the chain's origin), the
    first signed seq, the hash of the entry at seq ``at_seq`` and the last entry's
    time (the head's, once the chain verified)."""

    def __init__(self, at_seq: int) -> None:
        self.at_seq = at_seq
        self.first_hash: str | None = None
        self.first_signed: int | None = None
        self.hash_at_seq: str | None = None
        self.last_at: str | None = None

    def watch(self, entries: Iterable[AuditEntry]) -> Iterator[AuditEntry]:
        for e in entries:
            if self.first_hash is None:
                self.first_hash = e.hash
            if self.first_signed is None and e.signature:
                self.first_signed = e.seq
            if e.seq == self.at_seq:
                self.hash_at_seq = e.hash
            self.last_at = e.at
            yield e

    def origin(self) -> str:
        return ORIGIN_PREFIX + (self.first_hash[:16] if self.first_hash else "empty")


def verify_against(
    entries: Iterable[AuditEntry],
    checkpoint: AuditCheckpoint,
    chain_report: ChainReport | None = None,
) -> CheckpointReport:
    """Verify the chain (unless ``chain_report`` did), then check it still reaches and
    agrees with ``checkpoint``; ``entries`` may be a stream, read once."""
    facts = ChainFacts(checkpoint.head_seq)
    watched = facts.watch(entries)
    report = verify_entries(watched) if chain_report is None else chain_report
    for _ in watched:  # the facts of the whole chain, as the checks below compare
        pass
    return compare_with_checkpoint(report, facts, checkpoint)


def compare_with_checkpoint(
    report: ChainReport, facts: ChainFacts, checkpoint: AuditCheckpoint
) -> CheckpointReport:
    """Does the chain of ``report`` (whose ``facts`` were noted as it was read) still
    reach and agree with ``checkpoint``?"""
    if not report.ok:
        return CheckpointReport(report, checkpoint)
    cp = checkpoint
    if report.head_seq < cp.head_seq or report.entries < cp.entries:
        missing = cp.head_seq - report.head_seq
        return CheckpointReport(
            report,
            cp,
            f"the tail was truncated: the chain ends at seq {report.head_seq} "
            f"({report.entries} entries) but the checkpoint of {cp.exported_at or 'unknown time'} "
            f"saw seq {cp.head_seq} ({cp.entries} entries); {missing} newest entries are gone",
        )
    if cp.origin and facts.first_hash is not None and facts.origin() != cp.origin:
        return CheckpointReport(
            report,
            cp,
            f"the checkpoint is of chain {cp.origin} but this chain is {facts.origin()}: "
            "it was rewritten from seq 1, or this is another store",
        )
    if cp.signed_from is not None and facts.first_signed != cp.signed_from:
        return CheckpointReport(
            report,
            cp,
            f"the checkpoint saw signed entries from seq {cp.signed_from}, but this chain's "
            f"first signed entry is {facts.first_signed or 'none'}: signatures were "
            "stripped or replaced",
        )
    if cp.head_seq == 0:
        return CheckpointReport(report, cp)
    if facts.hash_at_seq != cp.head_hash:  # seqs are 1..n once the chain verified
        return CheckpointReport(
            report,
            cp,
            f"the chain was rewritten at or before seq {cp.head_seq}: its hash is now "
            f"{facts.hash_at_seq} but the checkpoint recorded {cp.head_hash} (every hash "
            "was recomputed after an edit, or the store was replaced)",
        )
    return CheckpointReport(report, cp)


def verify_store_against(
    store: Store, checkpoint: AuditCheckpoint, public_key: Path | None = None
) -> CheckpointReport:
    """Read the store's audit table by windows of seqs (memory does not grow with the
    chain) and its keys, verify the chain and its signatures while noting what the
    checkpoint is compared with, check the checkpoint's signature, and compare."""
    from tidegate.audit._signatures import trust_anchor
    from tidegate.audit._verify import verify_signed
    from tidegate.store._audit_reads import stream_chain_and_keys

    facts = ChainFacts(checkpoint.head_seq)
    with stream_chain_and_keys(store) as read:
        entries, recorded = read if read is not None else (iter(()), {})
        report = verify_signed(facts.watch(entries), recorded, public_key)
    problem = check_note_signature(checkpoint, recorded, trust_anchor(public_key))
    if problem:
        return CheckpointReport(report, checkpoint, problem)
    return compare_with_checkpoint(report, facts, checkpoint)
