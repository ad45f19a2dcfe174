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

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tidegate.batches import FileReject, RawBatch
from tidegate.contracts import Contract
from tidegate.engine import PreparedBatch, ingest_batch, prepare, read_or_audit
from tidegate.errors import PipelineError
from tidegate.flows._progress import emit
from tidegate.flows._tasks import TASK_STAGES
from tidegate.monitor._config import MonitorConfig
from tidegate.pipelines import ParallelConfig
from tidegate.store import BatchOutcome, lookup_committed
from tidegate.store._committed import batch_key_of

if TYPE_CHECKING:
    from tidegate.pipelines import PipelineSpec
    from tidegate.store import Store

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
def prepare_in_worker(
    store: Store, raw: RawBatch, contract: Contract, reprocess: bool
) -> PreparedBatch | None:
    """The engine's stages for one file or chunk, in a Dask worker (no store writes).

    ``None`` for content already committed: the ordered commit step audits the skip."""
    if not reprocess and lookup_committed(store, raw.source, batch_key_of(raw)):
        return None
    return prepare(raw, contract)


@task(name="commit-in-order", cache_policy=NO_CACHE)
def commit_in_order_task(
    store: Store,
    item: RawBatch | FileReject,
    prepared: PreparedBatch | None,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
) -> BatchOutcome:
    """Commit one prepared item exactly as the sequential flow does (skip, commit, monitor).

    Commits run one after another in read order (each waits for the previous one), so
    a key updated by several files ends as in a sequential run."""
    if isinstance(item, FileReject):
        rejected: BatchOutcome = TASK_STAGES.reject(store, item, contract, reprocess, actor)
        return rejected
    if prepared is None and not reprocess:  # committed when the worker looked: audit the skip
        skipped: list[BatchOutcome] = TASK_STAGES.skip(
            store, item.source, [(item.location, batch_key_of(item))], contract, actor
        )
        if skipped:
            return skipped[0]
    # prepared (the commit checks for a skip again), or no longer committed: run it here
    stages = TASK_STAGES if prepared is None else TASK_STAGES._replace(prepare=_given(prepared))
    return ingest_batch(
        store, item, contract, reprocess=reprocess, actor=actor, monitor=monitor, stages=stages
    )


def _given(prepared: PreparedBatch) -> Callable[[RawBatch, Contract], PreparedBatch]:
    """A prepare step that hands back what a worker prepared already."""
    return lambda raw, contract: prepared


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
        else prepare_in_worker.submit(store, item, contract, reprocess)
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


def run_on_dask(
    store: Store,
    read: Iterator[RawBatch | FileReject],
    contract: Any,
    reprocess: bool,
    actor: str | None,
    spec: PipelineSpec,
    on_outcome: Callable[[BatchOutcome], None],
) -> list[BatchOutcome]:
    """Every item submitted to the Dask cluster as it is read (workers check for skips
    themselves); the outcomes in submission order, so the summary reads like a
    sequential run."""
    items: Iterator[RawBatch | FileReject | BatchOutcome] = iter(read)
    futures: list[Any] = []
    while (item := read_or_audit(items, store, contract.source, actor)) is not None:
        emit("batch_started", source=spec.name, location=item.location)
        assert not isinstance(item, BatchOutcome)
        previous = futures[-1] if futures else None
        futures.append(submit_item(store, item, contract, reprocess, actor, spec.monitor, previous))
    outcomes = []
    for future in futures:
        outcome: BatchOutcome = future.result()
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes
