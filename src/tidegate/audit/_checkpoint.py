"""Export the head of the audit chain, and compare a chain against an exported head.

The hash chain alone shows an edit, a deletion, a reorder or an insertion *inside*
the chain. It cannot show that the newest entries were cut off, nor that someone
recomputed every hash after rewriting an old entry: the shorter or rewritten chain
is internally consistent. A checkpoint kept somewhere else (a ticket, another
machine, a signed commit) closes that gap: the chain must still reach the
checkpoint's seq, and the entry at that seq must still have the checkpoint's hash
(which, through the chain, pins every entry before it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.audit._filters import AT_FORMAT
from tidegate.audit._verify import ChainReport, verify_entries
from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry, open_store, read_chain

if TYPE_CHECKING:
    from tidegate.store import Store

CHECKPOINT_FORMAT = "tidegate-audit-checkpoint/1"
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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def _read_entries(store: Store) -> list[AuditEntry]:
    return read_chain(store) or []


def make_checkpoint(store: Store, entries: list[AuditEntry] | None = None) -> AuditCheckpoint:
    """The verified head of the store's chain; refuses to pin a chain that is broken."""
    from datetime import UTC, datetime

    chain = _read_entries(store) if entries is None else entries
    report = verify_entries(chain)
    if not report.ok:
        raise AuditQueryError(
            f"not exporting a checkpoint: the chain is broken at seq {report.first_bad_seq} "
            f"({report.reason}); run `tidegate audit verify` and investigate first"
        )
    head_at = chain[report.entries - 1].at if report.entries else None
    return AuditCheckpoint(
        entries=report.entries,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        head_at=head_at,
        exported_at=datetime.now(UTC).strftime(AT_FORMAT),
        store=open_store(store).label(),
    )


def read_checkpoint(path: Path) -> AuditCheckpoint:
    """Load a checkpoint file, naming the file and the field that is wrong."""
    hint = "export a fresh one with `tidegate audit checkpoint -o FILE`"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditQueryError(f"no checkpoint file at {path}; {hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
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


def verify_against(entries: Iterable[AuditEntry], checkpoint: AuditCheckpoint) -> CheckpointReport:
    """Verify the chain, then check it still reaches and agrees with ``checkpoint``."""
    chain = list(entries)
    report = verify_entries(chain)
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
    if cp.head_seq == 0:
        return CheckpointReport(report, cp)
    at_checkpoint = chain[cp.head_seq - 1]  # seqs are 1..n once the chain verified
    if at_checkpoint.hash != cp.head_hash:
        return CheckpointReport(
            report,
            cp,
            f"the chain was rewritten at or before seq {cp.head_seq}: its hash is now "
            f"{at_checkpoint.hash} but the checkpoint recorded {cp.head_hash} (every hash "
            "was recomputed after an edit, or the store was replaced)",
        )
    return CheckpointReport(report, cp)


def verify_store_against(store: Store, checkpoint: AuditCheckpoint) -> CheckpointReport:
    """Read the store's whole audit table and :func:`verify_against` the checkpoint."""
    return verify_against(_read_entries(store), checkpoint)
