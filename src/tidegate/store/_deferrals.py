"""A file left for a later run (it changed while it was read): one ``batch_deferred``
audit entry, so that the audit says why nothing of it was committed this run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.store._audit_log import append_audit, default_actor
from tidegate.store._connect import transaction
from tidegate.store._tables import ensure_store_tables

if TYPE_CHECKING:
    from tidegate.store import Store

DEFERRED_EVENT = "batch_deferred"


def record_deferral(
    store: Store, source: str, location: str, why: str, reason: str, actor: str | None = None
) -> int:
    """Audit that ``location`` changed while it was read (``why``: what changed) and
    was not committed; the entry's seq."""
    with transaction(store) as con:
        ensure_store_tables(con)
        entry = append_audit(
            con,
            DEFERRED_EVENT,
            {"location": location, "changed": why, "reason": reason},
            source=source,
            actor=actor or default_actor(),
        )
    return entry.seq
