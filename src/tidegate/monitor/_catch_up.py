"""Monitor the batches a killed run committed but never profiled.

A run killed between a batch's commit and its monitor step leaves the batch in the
store with no profile, and the next run skips the batch's content as committed, so
without this it would never be profiled or checked for alerts. Each run of a source
starts (under the source's run lock) by profiling such batches from what the store
holds: the checkpoint's counts and the loaded rows' statistics. What only the input
had (its header, the null rates before loading, the headers that feed no column) is
gone, so such a profile is marked ``caught_up`` and schema drift is not checked on it;
every other check runs as it would have, and its alerts are audited with the batch.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tidegate.contracts import Contract
from tidegate.monitor._alert import Alert
from tidegate.monitor._config import MonitorConfig
from tidegate.monitor._monitor import DEFAULT_RECENT, check_and_save, stored_profile
from tidegate.store import BatchOutcome, read_if_made
from tidegate.store._profiles import unprofiled_batches

if TYPE_CHECKING:
    from tidegate.store import Store

log = logging.getLogger("tidegate.monitor")


def catch_up(
    store: Store,
    config: MonitorConfig | None,
    contract: Contract,
    *,
    actor: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> list[Alert]:
    """Profile and check the source's committed batches that have no profile (at most
    the monitor's ``recent_batches``, the newest); return the alerts they raised."""
    limit = config.recent_batches if config else DEFAULT_RECENT
    with read_if_made(store) as con:
        batches = [] if con is None else unprofiled_batches(con, contract.source, limit)
    alerts: list[Alert] = []
    for batch in batches:
        (logger or log).warning(
            "monitoring %s now: the run that committed it stopped before its monitor step",
            batch.batch_id,
        )
        outcome = BatchOutcome(
            source=contract.source,
            location=batch.location,
            batch_id=batch.batch_id,
            event=batch.event,
            rows_in=batch.rows_in,
            loaded=batch.loaded,
            quarantined=batch.quarantined,
            duplicates=batch.duplicates,
        )

        def profile(con: Any, outcome: BatchOutcome = outcome) -> dict[str, Any]:
            return stored_profile(con, contract, None, outcome)  # marked caught_up

        alerts += check_and_save(store, config, outcome, profile, actor, logger)
    return alerts
