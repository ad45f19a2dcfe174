"""Monitoring: per-batch profiles, threshold and drift checks, alerts.

Configured by a pipeline file's ``monitor:`` section (:class:`MonitorConfig`).
After each committed batch, :func:`monitor_batch` (or the Prefect task
:func:`monitor_task`) saves the batch's statistics profile, compares the batch with
the source's recent profiles and, for each breach, writes an ``alert_raised``
audit entry, emits the Prefect event ``tidegate.alert.<kind>`` and posts to the
configured webhook in the background.

Importing this package loads only the configuration; the rest (polars, Prefect)
loads on first use, so pipeline files stay cheap to read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidegate.monitor._config import (
    MonitorConfig,
    RowCountConfig,
    ValueDriftConfig,
    WebhookConfig,
    parse_monitor,
)

if TYPE_CHECKING:
    from tidegate.monitor._alert import Alert
    from tidegate.monitor._catch_up import catch_up
    from tidegate.monitor._monitor import monitor_batch, monitor_staged
    from tidegate.monitor._never_stops import never_stops_run
    from tidegate.monitor._profile import profile_batch
    from tidegate.monitor._profile_stream import ProfileParts
    from tidegate.monitor._task import monitor_task
    from tidegate.monitor._webhook import wait_for_deliveries

_LAZY = {
    "Alert": "tidegate.monitor._alert",
    "catch_up": "tidegate.monitor._catch_up",
    "monitor_batch": "tidegate.monitor._monitor",
    "monitor_staged": "tidegate.monitor._monitor",
    "never_stops_run": "tidegate.monitor._never_stops",
    "ProfileParts": "tidegate.monitor._profile_stream",
    "profile_batch": "tidegate.monitor._profile",
    "monitor_task": "tidegate.monitor._task",
    "wait_for_deliveries": "tidegate.monitor._webhook",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tidegate.monitor' has no attribute {name!r}")


__all__ = [
    "Alert",
    "MonitorConfig",
    "ProfileParts",
    "RowCountConfig",
    "ValueDriftConfig",
    "WebhookConfig",
    "catch_up",
    "monitor_batch",
    "monitor_staged",
    "monitor_task",
    "never_stops_run",
    "parse_monitor",
    "profile_batch",
    "wait_for_deliveries",
]
