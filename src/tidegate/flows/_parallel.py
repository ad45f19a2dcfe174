"""Scale out: run a source's files or chunks in parallel on a Dask cluster (prefect-dask).

A pipeline file opts in with ``parallel: {runner: dask, address: null, workers: 2}``
(parsed in :mod:`tidegate.pipelines`). ``prefect-dask`` is an optional extra
(``pip install 'tidegate[dask]'``), imported only when a parallel run starts.

The read of the source stays in the flow process; each item (one file, or one batch
held in memory) is submitted to the Dask cluster as a ``prepare`` task (normalize,
validate, route: the CPU work, all items at once; a file read in chunks is staged in
the store there, chunk by chunk, under a stage id nothing reads yet) and a
``commit-in-order`` task (skip check, commit or publish, monitor) that waits for the
previous item's commit, so the tables, the quarantine and the audit trail end exactly
as in a sequential run. Each commit opens its own short
connection to the store and retries on the cross-process file lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from tidegate.batches import FileBatch, FileReject, RawBatch
from tidegate.contracts import Contract
from tidegate.engine import (
    Committed,
    Deferred,
    PreparedBatch,
    StagedBatch,
    catch_up_monitor,
    ingest_batch,
    ingest_file,
    prepare,
    read_or_audit,
    stage,
)
from tidegate.engine._progress import emit
from tidegate.engine._shadow import ShadowCandidate, shadowing
from tidegate.errors import PipelineError
from tidegate.flows._tasks import TASK_STAGES
from tidegate.monitor._config import MonitorConfig
from tidegate.pipelines import ParallelConfig
from tidegate.pipelines._spec import load_shadow
from tidegate.store import BatchOutcome, lookup_committed
from tidegate.store._committed import batch_key_of
from tidegate.store._staging import clear_staging

T = TypeVar("T")

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
    store: Store,
    raw: RawBatch | FileBatch,
    contract: Contract,
    reprocess: bool,
    shadow: ShadowCandidate | None = None,
) -> PreparedBatch | StagedBatch | FileReject | Deferred | None:
    """The engine's stages for one batch, in a Dask worker: a batch held in memory is
    prepared (no store writes), a file read in chunks is staged (its chunks written under
    a stage id that nothing reads until the ordered step publishes it).

    ``None`` for content already committed: the ordered commit step audits the skip.
    With the pipeline's ``shadow``, the batch is also judged under the candidate."""
    with shadowing(shadow):
        return _prepare_or_stage(store, raw, contract, reprocess)


def _prepare_or_stage(
    store: Store, raw: RawBatch | FileBatch, contract: Contract, reprocess: bool
) -> PreparedBatch | StagedBatch | FileReject | Deferred | None:
    known = isinstance(raw, RawBatch) or raw.content_sha256 is not None
    if known and not reprocess and lookup_committed(store, raw.source, batch_key_of(raw)):
        return None
    if isinstance(raw, RawBatch):
        return prepare(raw, contract)
    staged = stage(store, raw, contract, reprocess, one_piece=False)  # published in order
    assert not isinstance(staged, Committed)
    return staged


@task(name="commit-in-order", cache_policy=NO_CACHE)
def commit_in_order_task(
    store: Store,
    item: RawBatch | FileBatch | FileReject,
    prepared: PreparedBatch | StagedBatch | FileReject | Deferred | None,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
) -> BatchOutcome:
    """Commit one prepared item exactly as the sequential flow does (skip, commit, monitor).

    Commits run one after another in read order (each waits for the previous one), so
    a key updated by several files ends as in a sequential run."""
    if isinstance(prepared, FileReject):  # found unreadable while a worker staged it
        item = prepared
    if isinstance(item, FileReject):
        rejected: BatchOutcome = TASK_STAGES.reject(store, item, contract, reprocess, actor)
        return rejected
    if isinstance(prepared, Deferred):
        return prepared.audited(store, actor)
    if isinstance(prepared, StagedBatch):
        assert not isinstance(item, RawBatch)
        stages = TASK_STAGES._replace(stage=_given(prepared))
        return ingest_file(
            store, item, contract, reprocess=reprocess, actor=actor, monitor=monitor, stages=stages
        )
    if prepared is None and not reprocess:  # committed when the worker looked: audit the skip
        skipped: list[BatchOutcome] = TASK_STAGES.skip(
            store, item.source, [(item.location, batch_key_of(item))], contract, actor
        )
        if skipped:
            return skipped[0]
    # prepared (the commit checks for a skip again), or no longer committed: run it here
    assert not isinstance(prepared, FileReject)
    stages = TASK_STAGES if prepared is None else TASK_STAGES._replace(prepare=_given(prepared))
    return ingest_batch(
        store, item, contract, reprocess=reprocess, actor=actor, monitor=monitor, stages=stages
    )


def _given(prepared: T) -> Callable[..., T]:
    """A prepare (or stage) step that hands back what a worker did already."""
    return lambda *args: prepared


def submit_item(
    store: Store,
    item: RawBatch | FileBatch | FileReject,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
    previous: Any | None,
    shadow: ShadowCandidate | None = None,
) -> Any:
    """Submit one item: its preparation runs at once, its commit after ``previous``'s."""
    prepared = (
        None
        if isinstance(item, FileReject)
        else prepare_in_worker.submit(store, item, contract, reprocess, shadow)
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
    read: Iterator[RawBatch | FileBatch | FileReject],
    contract: Any,
    reprocess: bool,
    actor: str | None,
    spec: PipelineSpec,
    on_outcome: Callable[[BatchOutcome], None],
) -> list[BatchOutcome]:
    """Every item submitted to the Dask cluster as it is read (workers check for skips
    themselves); the outcomes in submission order, so the summary reads like a
    sequential run."""
    items: Iterator[RawBatch | FileBatch | FileReject | BatchOutcome] = iter(read)
    futures: list[Any] = []
    clear_staging(store, contract)  # what a killed run of this source staged and left
    catch_up_monitor(store, spec.monitor, contract, actor)  # what it committed unmonitored
    shadow = load_shadow(spec, contract)
    while (item := read_or_audit(items, store, contract.source, actor)) is not None:
        emit("batch_started", source=spec.name, location=item.location)
        assert not isinstance(item, BatchOutcome)
        previous = futures[-1] if futures else None
        futures.append(
            submit_item(store, item, contract, reprocess, actor, spec.monitor, previous, shadow)
        )
    outcomes = []
    for future in futures:
        outcome: BatchOutcome = future.result()
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes
