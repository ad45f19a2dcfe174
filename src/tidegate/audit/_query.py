"""Read audit entries: filtered pages, one entry by seq, every entry of a batch.

Only reads, through the store's short-lived connection; never imports Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tidegate.audit._filters import AuditFilter
from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry, connect
from tidegate.store._audit_reads import (
    count_entries,
    entries_between,
    entry_at,
    has_audit,
    page_seqs,
    seq_bounds,
)
from tidegate.store._audit_reads import (
    entries_of_batch as read_batch_entries,
)
from tidegate.store._batch_ids import resolve_batch_id

if TYPE_CHECKING:
    from tidegate.store import Store

ENTRY_FIELDS = ("seq", "at", "actor", "event", "source", "batch_id", "detail", "prev_hash", "hash")


def entry_record(entry: AuditEntry) -> dict[str, Any]:
    """An entry as a plain dict, ``detail`` parsed (for JSON output)."""
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "event": entry.event,
        "source": entry.source,
        "batch_id": entry.batch_id,
        "detail": entry.detail_dict,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def entry_summary(entry: AuditEntry) -> str:
    """One short line of what an entry says, for tables."""
    d = entry.detail_dict
    counts = [
        f"{k}={d[k]}"
        for k in ("rows_in", "loaded", "updated", "quarantined", "duplicates")
        if d.get(k) is not None
    ]
    if counts:
        return " ".join(counts)
    if entry.event == "record_edited":
        after = ", ".join(f"{k}={v!r}" for k, v in (d.get("after") or {}).items())
        return f"record {d.get('id')}: {after}"
    if entry.event.startswith("record_") and isinstance(d.get("records"), dict):
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted((d.get("counts") or {}).items()))
        ids = sorted(int(i) for i in d["records"])
        shown = ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")
        return f"{len(ids)} record(s) {shown}: {outcomes}"
    if entry.event.startswith("record_"):
        outcome = d.get("outcome") or (d.get("after") or {}).get("status") or ""
        return f"record {d.get('id')} {outcome}".strip()
    if entry.event in ("contract_rolled_back", "contract_promoted"):  # ISSUE15 format
        was, now = d.get("from") or {}, d.get("to") or {}
        return (
            f"v{was.get('version')} → v{now.get('version')} "
            + str(now.get("content_hash") or "")[:12]
        )
    if entry.event == "batch_skipped":
        return f"already committed (contract v{d.get('committed_contract_version', '?')})"
    return str(d.get("reason", ""))[:60]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # ascending seq
    total: int  # entries matching the filter, all pages
    page: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def list_entries(
    store: Store,
    flt: AuditFilter,
    *,
    limit: int = 50,
    page: int = 1,
    oldest_first: bool = False,
) -> AuditPage:
    """One page of matching entries. Page 1 is the newest ``limit`` entries (or the
    oldest with ``oldest_first``); each page is returned in ascending seq order."""
    if limit < 1 or page < 1:
        raise AuditQueryError(f"--limit {limit} and --page {page} must both be 1 or more")
    with connect(store, read_only=True) as con:
        if not has_audit(con):
            return AuditPage([], 0, page, limit)
        total = count_entries(con, flt)
        seqs = page_seqs(
            con, flt, limit=limit, offset=(page - 1) * limit, oldest_first=oldest_first
        )
        if not seqs:
            return AuditPage([], total, page, limit)
        entries = entries_between(con, min(seqs), max(seqs))
    wanted = set(seqs)
    return AuditPage([e for e in entries if e.seq in wanted], total, page, limit)


def entry_by_seq(store: Store, seq: int) -> AuditEntry:
    """The entry numbered ``seq``; refuses with the range that exists."""
    with connect(store, read_only=True) as con:
        if not has_audit(con):
            raise AuditQueryError(f"no audit entries in {store} yet; run `tidegate demo` first")
        found = entry_at(con, seq)
        if found is not None:
            return found
        low, high = seq_bounds(con)
    span = f"seq {low} to {high}" if low is not None else "no entries"
    raise AuditQueryError(
        f"no audit entry with seq {seq} (the log holds {span}); see `tidegate audit list`"
    )


def entries_of_batch(store: Store, batch: str) -> list[AuditEntry]:
    """Every entry of a batch id; a unique prefix of a batch id is accepted too
    (:func:`~tidegate.store._batch_ids.resolve_batch_id`, as every command takes it)."""
    with connect(store, read_only=True) as con:
        if not has_audit(con):
            raise AuditQueryError(f"no audit entries in {store} yet; run `tidegate demo` first")
    batch_id = resolve_batch_id(store, batch)
    with connect(store, read_only=True) as con:
        entries = read_batch_entries(con, batch_id)
    if not entries:
        raise AuditQueryError(
            f"no audit entry for batch {batch_id!r} (it has quarantine records only); see "
            "`tidegate quarantine list --batch` or the batch ids with `tidegate audit list`"
        )
    return entries
