"""Tell the world about alerts: audit entries, Prefect events, the webhook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tidegate.monitor._alert import Alert

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("tidegate.monitor")


def audit_alerts(
    con: duckdb.DuckDBPyConnection, alerts: list[Alert], *, actor: str | None = None
) -> list[int]:
    """One ``alert_raised`` audit entry per alert, inside the caller's transaction."""
    from tidegate.store import append_audit

    seqs = []
    for alert in alerts:
        entry = append_audit(
            con,
            "alert_raised",
            alert.as_dict(),
            source=alert.source,
            batch_id=alert.batch_id,
            actor=actor,
        )
        seqs.append(entry.seq)
    return seqs


def emit_prefect_events(alerts: list[Alert]) -> None:
    """Emit ``tidegate.alert.<kind>`` per alert, so a Prefect automation can notify.

    The resource is ``tidegate.source.<source>``; the batch is a related resource.
    Emitting never fails the caller: without a Prefect API it is a no-op.
    """
    if not alerts:
        return
    import prefect.events

    for alert in alerts:
        payload: dict[str, Any] = alert.as_dict()
        try:
            prefect.events.emit_event(
                event=alert.event_name,
                resource={
                    "prefect.resource.id": f"tidegate.source.{alert.source}",
                    "prefect.resource.name": alert.source,
                },
                related=[
                    {
                        "prefect.resource.id": f"tidegate.batch.{alert.batch_id}",
                        "prefect.resource.role": "batch",
                    }
                ],
                payload=payload,
            )
        except Exception:
            log.exception("could not emit the Prefect event %s", alert.event_name)
