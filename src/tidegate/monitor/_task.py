"""The Prefect task around :func:`monitor_batch` (imports Prefect)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tidegate.batches import RoutedBatch
from tidegate.contracts import Contract
from tidegate.errors import transient_only
from tidegate.monitor._alert import Alert
from tidegate.monitor._config import MonitorConfig
from tidegate.monitor._monitor import monitor_batch, monitor_staged
from tidegate.monitor._never_stops import never_stops_run
from tidegate.store import BatchOutcome

if TYPE_CHECKING:
    from tidegate.store import Store


@task(
    name="monitor",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 2, 4],
    retry_condition_fn=transient_only,
)
def monitor_task(
    store: Store,
    config: MonitorConfig | None,
    routed: RoutedBatch | dict[str, Any],
    outcome: BatchOutcome,
    contract: Contract | None = None,
    actor: str | None = None,
) -> list[Alert]:
    """Monitor one committed batch. The batch is already in the store, so a bug here is
    logged and the flow goes on; a locked store is retried like the other tasks."""
    logger = get_run_logger()
    alerts: list[Alert] = []
    what = "monitoring %s failed; the batch itself is committed"
    with never_stops_run(logger, what, outcome.batch_id):
        if isinstance(routed, dict):  # a file read in chunks: its profile parts
            assert contract is not None
            alerts = monitor_staged(
                store, config, routed, outcome, contract, actor=actor, logger=logger
            )
        else:
            alerts = monitor_batch(
                store, config, routed, outcome, contract, actor=actor, logger=logger
            )
    return alerts
