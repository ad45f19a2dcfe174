"""Reads of the audit for the shadow report: the batch entries that carry a shadow result.

A pipeline that names a candidate contract (``shadow:``) writes ``detail["shadow"]``
into its ``batch_committed`` and ``batch_held`` entries; the detail is canonical JSON
(no whitespace), so ``"shadow":{`` finds them in both stores' SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.store._audit_log import AuditEntry, read_audit

if TYPE_CHECKING:
    from tidegate.store._protocol import Connection

SHADOW_BATCH_EVENTS = ("batch_committed", "batch_held")


def shadowed_batch_entries(con: Connection, source: str | None = None) -> list[AuditEntry]:
    """The batch entries (of ``source``, or of every source) whose detail carries a
    shadow result, newest first."""
    where = "WHERE event IN (?, ?) AND detail LIKE ?"
    params: list[object] = [*SHADOW_BATCH_EVENTS, '%"shadow":{%']
    if source is not None:
        where += " AND source = ?"
        params.append(source)
    return list(reversed(read_audit(con, where, params)))
