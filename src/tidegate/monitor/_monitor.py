"""Monitor one committed batch: profile it, check it, raise and deliver its alerts.

Order of work, per batch:

1. profile the routed batch (polars, no store access);
2. in one short store transaction, right after the batch's own: read the source's
   recent profiles, run the checks, save this batch's profile and append one
   ``alert_raised`` audit entry per alert (all or nothing);
3. after that commits: log each alert, emit the Prefect events and start the
   webhook deliveries in the background (never waited for).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tidegate.batches import RoutedBatch
from tidegate.contracts import Contract
from tidegate.monitor._alert import Alert, BatchRef
from tidegate.monitor._checks import check_quarantine_ratio, check_row_count, check_value_drift
from tidegate.monitor._config import MonitorConfig
from tidegate.monitor._notify import audit_alerts, emit_prefect_events
from tidegate.monitor._profile import profile_batch
from tidegate.monitor._profile_stream import assemble_profile
from tidegate.monitor._schema_drift import check_schema_drift
from tidegate.monitor._webhook import deliver_in_background
from tidegate.store import BatchOutcome, ensure_store_tables, transaction
from tidegate.store._profiles import (
    has_profile,
    loaded_column_stats,
    read_recent_profiles,
    save_profile,
)

if TYPE_CHECKING:
    from tidegate.store import Store

log = logging.getLogger("tidegate.monitor")

MONITORED_EVENTS = frozenset({"batch_committed", "batch_reprocessed", "batch_held"})
DEFAULT_RECENT = 5


def run_checks(
    config: MonitorConfig,
    profile: dict[str, Any],
    recent: list[dict[str, Any]],
    ref: BatchRef,
    *,
    rows_in: int,
    quarantined: int,
) -> list[Alert]:
    """Every configured check of one batch against its source's recent profiles."""
    alerts = check_quarantine_ratio(config, rows_in, quarantined, ref)
    alerts += check_row_count(config.row_count, rows_in, recent, ref)
    if config.schema_drift and not profile.get("caught_up"):  # no header to compare
        alerts += check_schema_drift(profile, recent, ref)
    alerts += check_value_drift(config.value_drift, profile, recent, ref)
    return alerts


def monitor_batch(
    store: Store,
    config: MonitorConfig | None,
    routed: RoutedBatch,
    outcome: BatchOutcome,
    contract: Contract | None = None,
    *,
    actor: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> list[Alert]:
    """Profile and check one batch after its commit; return the alerts it raised.

    Skipped batches and rejected files are not monitored (nothing new was read).
    Without ``config`` the profile is still saved, so thresholds added later have a
    history to compare with. Running it again for the same batch raises nothing.
    With ``contract``, the values of its ``pii`` columns stay out of the profile.
    Each alert is logged at WARNING on ``logger`` (default: ``tidegate.monitor``).
    """
    if outcome.event not in MONITORED_EVENTS:
        return []
    pii = {c.name for c in contract.columns if c.pii} if contract else set()
    profile = profile_batch(routed, pii_columns=pii)
    return check_and_save(store, config, outcome, lambda con: profile, actor, logger)


def monitor_staged(
    store: Store,
    config: MonitorConfig | None,
    parts: dict[str, Any],
    outcome: BatchOutcome,
    contract: Contract,
    *,
    actor: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> list[Alert]:
    """:func:`monitor_batch` for a batch read in chunks: its profile is the chunk-wise
    ``parts`` (:class:`tidegate.monitor.ProfileParts`) and the statistics of its loaded
    rows, computed by the store in the monitor's transaction. ``parts`` may also be a
    complete profile (``profile_batch`` of a file that was committed in one piece)."""
    if outcome.event not in MONITORED_EVENTS:
        return []

    def profile(con: Any) -> dict[str, Any]:
        if "columns" in parts:  # a complete profile (a file committed in one piece)
            return parts
        return stored_profile(con, contract, parts, outcome)

    return check_and_save(store, config, outcome, profile, actor, logger)


def stored_profile(
    con: Any, contract: Contract, parts: dict[str, Any] | None, outcome: BatchOutcome
) -> dict[str, Any]:
    """A committed batch's profile from the chunk-wise ``parts`` and the statistics the
    store computes over its loaded rows (``pii`` columns: counts only). Without
    ``parts`` (a batch whose run was killed before its monitor step) the profile has
    only the loaded rows' statistics and is marked ``caught_up``."""
    pii = {c.name for c in contract.columns if c.pii}
    stats = loaded_column_stats(con, contract, outcome.batch_id, pii)
    profile = assemble_profile(
        parts or {"headers": [], "null_rates": {}, "unknown": {}},
        stats,
        rows_in=outcome.rows_in,
        loaded=outcome.loaded,
        quarantined=outcome.quarantined,
        held=outcome.event == "batch_held",
    )
    return profile if parts else {**profile, "columns": stats, "caught_up": True}


def check_and_save(
    store: Store,
    config: MonitorConfig | None,
    outcome: BatchOutcome,
    make_profile: Callable[[Any], dict[str, Any]],
    actor: str | None,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None,
) -> list[Alert]:
    ref = BatchRef(outcome.source, outcome.batch_id, outcome.location)
    limit = config.recent_batches if config else DEFAULT_RECENT
    with transaction(store) as con:
        ensure_store_tables(con)
        if has_profile(con, outcome.batch_id):
            return []
        profile = make_profile(con)
        recent = read_recent_profiles(con, outcome.source, limit, exclude_batch_id=outcome.batch_id)
        alerts = (
            run_checks(
                config,
                profile,
                [p.profile for p in recent],
                ref,
                rows_in=outcome.rows_in,
                quarantined=outcome.quarantined,
            )
            if config
            else []
        )
        save_profile(con, outcome.source, outcome.batch_id, profile)
        audit_alerts(con, alerts, actor=actor)
    for alert in alerts:
        (logger or log).warning("alert %s: %s", alert.kind, alert.message)
    emit_prefect_events(alerts)
    if config and config.webhook and alerts:
        deliver_in_background(store, config.webhook, alerts, actor=actor)
    return alerts
