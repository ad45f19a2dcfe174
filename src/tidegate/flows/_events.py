"""A Prefect event per batch outcome, so a Prefect automation can act on it.

``tidegate.batch.committed``, ``.reprocessed``, ``.held``, ``.skipped``,
``.file_rejected``, and ``.quarantine_threshold`` when the batch crossed the
monitor's quarantine ratio (:mod:`tidegate.flows._outcome`). The resource is
``tidegate.source.<source>`` (as for the monitor's ``tidegate.alert.<kind>``), the
batch a related resource; inside a flow run Prefect relates the flow run too. The
payload holds the counts, never row values.
"""

from __future__ import annotations

import logging
from typing import Any

from tidegate.flows._outcome import event_names, event_payload

log = logging.getLogger("tidegate.flows")


def emit_batch_events(outcome: dict[str, Any]) -> list[str]:
    """Emit the events of one batch outcome (``BatchOutcome.as_dict()``); their names.

    Emitting never fails the run: the batch is committed already."""
    from prefect.events import emit_event

    names = event_names(outcome)
    related = []
    if outcome.get("batch_id"):
        related.append(
            {
                "prefect.resource.id": f"tidegate.batch.{outcome['batch_id']}",
                "prefect.resource.role": "batch",
            }
        )
    for name in names:
        try:
            emit_event(
                event=name,
                resource={
                    "prefect.resource.id": f"tidegate.source.{outcome['source']}",
                    "prefect.resource.name": str(outcome["source"]),
                },
                related=related,
                payload=event_payload(outcome),
            )
        except Exception:
            log.exception("could not emit the Prefect event %s", name)
    return names
