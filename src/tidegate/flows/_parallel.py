"""Scale out: run a source's files or chunks in parallel on a Dask cluster (prefect-dask).

A pipeline file opts in with ``parallel: {runner: dask, address: null, workers: 2}``
(parsed in :mod:`tidegate.pipelines`). ``prefect-dask`` is an optional extra
(``pip install 'tidegate[dask]'``), imported only when a parallel run starts.

The read of the source stays in the flow process; each item (one file or chunk) is
submitted to the Dask cluster as a ``prepare`` task (normalize, validate, route: the
CPU work, all items at once) and a ``commit-in-order`` task (skip check, commit,
monitor) that waits for the previous item's commit, so the tables, the quarantine and
the audit trail end exactly as in a sequential run. Each commit opens its own short
connection to the store and retries on the cross-process file lock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tidegate.contracts import Contract
from tidegate.errors import PipelineError
from tidegate.monitor import monitor_task
from tidegate.monitor._config import MonitorConfig
from tidegate.pipelines import ParallelConfig
from tidegate.route import RoutedBatch
from tidegate.sources import FileReject, RawBatch
from tidegate.store import BatchOutcome, lookup_committed

if TYPE_CHECKING:
    from tidegate.store._location import Store

INSTALL_HINT = "pip install 'tidegate[dask]'"


def dask_task_runner(config: ParallelConfig) -> Any:
    """A ``prefect_dask.DaskTaskRunner`` for ``config``: the given scheduler, or a
    LocalCluster of ``workers`` processes started and closed with the flow run."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise PipelineError(
            f"parallel: {{runner: dask}} needs prefect-dask, which is not installed; "
            f"run {INSTALL_HINT}"
        ) from exc
    if config.address:
        return DaskTaskRunner(address=config.address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": config.workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )


def uses_dask(task_runner: object) -> bool:
    """Whether a flow run's task runner is prefect-dask's (without importing it)."""
    return type(task_runner).__module__.split(".")[0] == "prefect_dask"


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_task(
    store: Store, raw: RawBatch, contract: Contract, reprocess: bool
) -> tuple[RoutedBatch, int] | None:
    """normalize, validate and route one file or chunk in a Dask worker (no store writes).

    ``None`` for content already committed: the ordered commit step audits the skip."""
    from tidegate.flows._ingest import normalize_task, route_task, validate_task

    if not reprocess and lookup_committed(store, raw.source, f"sha256:{raw.content_sha256}"):
        return None
    started = time.perf_counter()
    normalized = normalize_task(raw, contract)
    validated = validate_task(normalized, contract)
    routed = route_task(raw, normalized, validated, contract)
    return routed, int((time.perf_counter() - started) * 1000)


@task(name="commit-in-order", cache_policy=NO_CACHE)
def commit_in_order_task(
    store: Store,
    item: RawBatch | FileReject,
    prepared: tuple[RoutedBatch, int] | None,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
) -> BatchOutcome:
    """Commit one prepared item exactly as the sequential flow does (skip, commit, monitor).

    Commits run one after another in read order (each waits for the previous one), so
    a key updated by several files ends as in a sequential run."""
    from tidegate.flows._ingest import commit_reject_task, commit_task, skip_task

    if isinstance(item, FileReject):
        rejected: BatchOutcome = commit_reject_task(store, item, contract, reprocess, actor)
        return rejected
    if not reprocess and lookup_committed(store, item.source, f"sha256:{item.content_sha256}"):
        skipped: BatchOutcome | None = skip_task(store, item, contract, actor)
        if skipped is not None:
            return skipped
    if prepared is None:  # skipped while preparing, but no longer committed: do it here
        prepared = prepare_task.fn(store, item, contract, True)
        assert prepared is not None
    routed, duration_ms = prepared
    cursor = (
        (item.cursor_column, item.cursor_value)
        if item.cursor_column and item.cursor_value
        else None
    )
    outcome: BatchOutcome = commit_task(
        store, routed, contract, reprocess, actor, duration_ms, cursor
    )
    alerts = monitor_task(store, monitor, routed, outcome, contract, actor)
    return outcome.with_alerts([a.kind for a in alerts])


def submit_item(
    store: Store,
    item: RawBatch | FileReject,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
    previous: Any | None,
) -> Any:
    """Submit one item: its preparation runs at once, its commit after ``previous``'s."""
    prepared = (
        None
        if isinstance(item, FileReject)
        else prepare_task.submit(store, item, contract, reprocess)
    )
    commit: Any = commit_in_order_task  # keeps mypy off the submit overloads' unions
    return commit.submit(
        store,
        item,
        prepared,
        contract,
        reprocess,
        actor,
        monitor,
        wait_for=[previous] if previous is not None else None,
    )
