"""Committed batches: what a batch's commit says happened, and whether content is committed.

:class:`BatchOutcome` is what one batch came to, as its audit entry records it;
:class:`CommittedBatch` is a checkpoint of content committed earlier. A batch whose
content (``source``, content sha256) is committed already is skipped, and the skip
is audited (:func:`record_skip`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tidegate.batches import FileBatch, FileReject, RawBatch
from tidegate.batches._read_options import current_read_options, options_changes
from tidegate.contracts._model import Contract
from tidegate.store._audit_log import append_audit, default_actor
from tidegate.store._connect import fetch_one, read_if_made, transaction
from tidegate.store._tables import ensure_store_tables

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one batch, as recorded in the audit entry."""

    source: str
    location: str
    batch_id: str
    event: str  # batch_committed | batch_held | batch_skipped | file_rejected
    rows_in: int = 0
    loaded: int = 0
    updated: int = 0
    quarantined: int = 0
    duplicates: int = 0
    failure_counts: dict[str, int] = field(default_factory=dict)
    normalize_counts: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    headers: str | None = None  # the header finding: missing/unknown columns, the fix
    audit_seq: int = 0
    alerts: tuple[str, ...] = ()  # kinds of the monitor alerts this batch raised
    warnings: tuple[str, ...] = ()  # committed anyway: a failed batch expectation under warn
    shadow: dict[str, Any] | None = None  # what a shadowed candidate contract would decide

    def with_alerts(self, kinds: list[str] | tuple[str, ...]) -> BatchOutcome:
        return replace(self, alerts=tuple(kinds)) if kinds else self

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "alerts": list(self.alerts), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class CommittedBatch:
    batch_id: str
    contract_version: int | None
    committed_at: datetime
    # what a re-read depends on: the contract's content hash and the source's read
    # options (JSON) the batch was committed under; None in checkpoints made before
    contract_hash: str | None = None
    source_options: str | None = None


# The checkpoint columns a CommittedBatch is made of, in order.
COMMITTED_COLUMNS = "batch_id, contract_version, committed_at, contract_hash, source_options"


def new_batch_id(source: str, batch_key: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{source}-{stamp}-{batch_key.split(':')[-1][:8]}-{secrets.token_hex(2)}"


def batch_key_of(item: RawBatch | FileBatch | FileReject) -> str:
    """The batch key the store commits ``item`` under (as commit_batch/commit_file_reject);
    a FileBatch's once its content is hashed."""
    if isinstance(item, FileReject) and not item.content_sha256:
        return f"unreadable:{item.location}"
    return f"sha256:{item.content_sha256}"


def find_committed(
    con: duckdb.DuckDBPyConnection, source: str, batch_key: str
) -> CommittedBatch | None:
    row = fetch_one(
        con,
        f"SELECT {COMMITTED_COLUMNS} FROM checkpoints "
        "WHERE source = ? AND batch_key = ? AND status = 'committed'",
        [source, batch_key],
    )
    return CommittedBatch(*row) if row else None


def lookup_committed(store: Store, source: str, batch_key: str) -> CommittedBatch | None:
    """Has this content of this source been committed already? (one short read)"""
    with read_if_made(store) as con:
        return None if con is None else find_committed(con, source, batch_key)


def changed_since(earlier: CommittedBatch, contract: Contract | None) -> list[str]:
    """What a re-read of committed content depends on that changed since its commit:
    the contract (version, or content under the same version) and the source's read
    options (:mod:`tidegate.batches._read_options`); [] when nothing did, or when the
    checkpoint predates these records."""
    changes = []
    if contract is not None and earlier.contract_version is not None:
        name = f"contract {contract.source} v{earlier.contract_version}"
        if earlier.contract_version != contract.version:
            changes.append(
                f"committed under {name}, the contract is v{contract.version} now; "
                f"rerun with `tidegate run {contract.source} --reprocess` to read it under "
                f"v{contract.version}"
            )
        elif earlier.contract_hash and earlier.contract_hash != contract.content_hash:
            changes.append(
                f"committed under {name} with a different content hash: the contract "
                f"changed since (bump `version:` to record it); rerun with "
                f"`tidegate run {contract.source} --reprocess` to read it under the current "
                "contract"
            )
    options = options_changes(earlier.source_options, current_read_options())
    if options:
        rerun = f"`tidegate run {contract.source} --reprocess`" if contract else "--reprocess"
        changes.append(
            f"source options changed since: {', '.join(options)}; rerun with {rerun} to "
            "read it with the current options"
        )
    return changes


def skip_detail(
    location: str, batch_key: str, earlier: CommittedBatch, contract: Contract | None
) -> dict[str, Any]:
    """The ``detail`` of a ``batch_skipped`` audit entry."""
    changes = changed_since(earlier, contract)
    return {
        "location": location,
        "batch_key": batch_key,
        "committed_batch_id": earlier.batch_id,
        "committed_contract_version": earlier.contract_version,
        "current_contract_version": contract.version if contract else None,
        **({"changed_since": changes} if changes else {}),
        "reason": "; ".join(changes)
        if changes
        else "content already committed; use `tidegate run --reprocess` to replace it",
    }


def skip_outcome(
    source: str,
    location: str,
    earlier: CommittedBatch,
    seq: int,
    contract: Contract | None = None,
) -> BatchOutcome:
    """The outcome of a skipped batch whose audit entry is ``seq``."""
    reason = f"already committed as {earlier.batch_id} under contract v{earlier.contract_version}"
    changes = changed_since(earlier, contract)
    return BatchOutcome(
        source=source,
        location=location,
        batch_id=earlier.batch_id,
        event="batch_skipped",
        reason="; ".join([f"already committed as {earlier.batch_id}", *changes])
        if changes
        else reason,
        audit_seq=seq,
    )


def _audit_skip(
    con: duckdb.DuckDBPyConnection,
    source: str,
    location: str,
    batch_key: str,
    earlier: CommittedBatch,
    contract: Contract | None,
    actor: str,
) -> BatchOutcome:
    entry = append_audit(
        con,
        "batch_skipped",
        skip_detail(location, batch_key, earlier, contract),
        source=source,
        batch_id=earlier.batch_id,
        actor=actor,
    )
    return skip_outcome(source, location, earlier, entry.seq, contract)


def record_skip(
    store: Store,
    source: str,
    location: str,
    batch_key: str,
    contract: Contract | None,
    actor: str | None = None,
) -> BatchOutcome | None:
    """Audit that this content was skipped; None if it was not committed after all."""
    with transaction(store) as con:
        ensure_store_tables(con)
        earlier = find_committed(con, source, batch_key)
        if earlier is None:
            return None
        return _audit_skip(
            con, source, location, batch_key, earlier, contract, actor or default_actor()
        )
