"""A run's data outcome, for Prefect: a flow-run state and an event per batch outcome.

The flow run of a run with data held ends in a state named ``Held`` (type
COMPLETED, so flow retries do not run it again: the held data is committed to the
quarantine already), with a message that says what was held; a failure ends it
``Failed``. Every batch outcome is a Prefect event named by :func:`event_names`.
Exit codes and the verdict itself are in :mod:`tidegate.engine._outcome`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidegate.engine._outcome import QUARANTINE_ALERT

HELD_STATE = "Held"

EVENT_BY_OUTCOME = {
    "batch_committed": "tidegate.batch.committed",
    "batch_reprocessed": "tidegate.batch.reprocessed",
    "batch_held": "tidegate.batch.held",
    "batch_skipped": "tidegate.batch.skipped",
    "file_rejected": "tidegate.batch.file_rejected",
}
THRESHOLD_EVENT = "tidegate.batch.quarantine_threshold"


def event_names(outcome: Mapping[str, Any]) -> list[str]:
    """The Prefect events one batch outcome (``BatchOutcome.as_dict()``) emits."""
    names = [EVENT_BY_OUTCOME.get(outcome["event"], f"tidegate.batch.{outcome['event']}")]
    if QUARANTINE_ALERT in (outcome.get("alerts") or ()):
        names.append(THRESHOLD_EVENT)
    return names


def event_payload(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of one batch, as an event payload (no row values: PII never leaves)."""
    keys = ("source", "location", "batch_id", "event", "rows_in", "loaded", "updated")
    payload = {k: outcome.get(k) for k in (*keys, "quarantined", "duplicates", "reason")}
    payload["failure_counts"] = dict(outcome.get("failure_counts") or {})
    payload["alerts"] = list(outcome.get("alerts") or ())
    return payload
