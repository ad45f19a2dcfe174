"""The one unit of work: a raw batch through normalize, validate and route to a commit.

Prefect-free. The sequential flow, the Dask path, replay and :class:`tidegate.Pipeline`
all run a batch through :func:`run_batch`; the flow only swaps each step for a Prefect
task that wraps it (:class:`Stages`), for retries and tracing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from tidegate.batches import FileBatch, FileReject, RawBatch, RoutedBatch
from tidegate.contracts import Contract
from tidegate.engine._chunked import Committed, Deferred, StagedBatch, publish, stage
from tidegate.engine._prepare import PreparedBatch, prepare

if TYPE_CHECKING:
    from tidegate.monitor import Alert, MonitorConfig
    from tidegate.store import BatchOutcome, Store

T = TypeVar("T")


def run_batch(
    raw: RawBatch,
    contract: Contract,
    write: Callable[[PreparedBatch], T],
    *,
    prepare_step: Callable[[RawBatch, Contract], PreparedBatch] = prepare,
) -> T:
    """Prepare one raw batch and hand it to ``write``, which commits it in one store
    transaction (an ingest commit, or replay's) and returns what it did."""
    return write(prepare_step(raw, contract))


def commit(
    store: Store, prepared: PreparedBatch, contract: Contract, reprocess: bool, actor: str | None
) -> BatchOutcome:
    """Write a prepared batch: target rows, quarantine, checkpoint and audit entry in one
    transaction (or audit a skip when the content was committed meanwhile)."""
    from tidegate.store import commit_batch

    return commit_batch(
        store,
        prepared.routed,
        contract,
        reprocess=reprocess,
        actor=actor,
        duration_ms=prepared.duration_ms,
        cursor=prepared.cursor,
    )


def observe(
    store: Store,
    monitor: MonitorConfig | None,
    routed: RoutedBatch | dict[str, Any],
    outcome: BatchOutcome,
    contract: Contract,
    actor: str | None,
) -> list[Alert]:
    """Profile a committed batch and check the monitor's thresholds (its own transaction:
    the batch is committed already, so a retry here never commits twice). ``routed`` is
    the batch routed in memory, a staged file's profile parts (``StagedBatch.profile``),
    or the profile of a file committed in one piece (``Committed.profile``)."""
    from tidegate.monitor import monitor_batch, monitor_staged

    if isinstance(routed, dict):
        return monitor_staged(store, monitor, routed, outcome, contract, actor=actor)
    return monitor_batch(store, monitor, routed, outcome, contract, actor=actor)


def reject(
    store: Store, item: FileReject, contract: Contract, reprocess: bool, actor: str | None
) -> BatchOutcome:
    """One file-level quarantine entry for a file that could not be read at all; its
    reason ends with how to read it again (:func:`retry_advice`)."""
    from dataclasses import replace

    from tidegate.store import commit_file_reject

    item = replace(item, reason=f"{item.reason}; {retry_advice(contract.source)}")
    return commit_file_reject(store, item, contract=contract, reprocess=reprocess, actor=actor)


def retry_advice(source: str) -> str:
    """How to read a rejected file again. Its bytes are committed (as rejected), so a
    plain run skips them: after fixing the pipeline file (``encoding:``, ``format:``,
    ...) only ``--reprocess`` reads them again; a re-exported file is new content."""
    return (
        f"after fixing the pipeline file, read it again with `tidegate run {source} "
        "--reprocess` (a plain run skips the same bytes); a corrected copy of the file "
        "loads on the next run"
    )


def skip(
    store: Store, source: str, skips: list[tuple[str, str]], contract: Contract, actor: str | None
) -> list[BatchOutcome]:
    """Audit consecutive skips of committed content, ``(location, batch_key)`` each,
    in one transaction."""
    from tidegate.store._skips import record_skips

    return record_skips(store, source, skips, contract, actor)


class Stages(NamedTuple):
    """The steps of one batch. The engine's are plain functions; the flow passes the
    same steps wrapped in Prefect tasks (``tidegate.flows.TASK_STAGES``)."""

    prepare: Callable[[RawBatch, Contract], PreparedBatch] = prepare
    commit: Callable[..., BatchOutcome] = commit
    observe: Callable[..., list[Alert]] = observe
    reject: Callable[..., BatchOutcome] = reject
    skip: Callable[..., list[BatchOutcome]] = skip
    stage: Callable[..., StagedBatch | Committed | FileReject | Deferred] = stage
    publish: Callable[..., BatchOutcome] = publish


ENGINE_STAGES = Stages()


def ingest_batch(
    store: Store,
    raw: RawBatch | FileBatch,
    contract: Contract,
    *,
    reprocess: bool = False,
    actor: str | None = None,
    monitor: MonitorConfig | None = None,
    stages: Stages = ENGINE_STAGES,
) -> BatchOutcome:
    """One batch of an ingest run, start to end: prepared, committed, monitored.

    A RawBatch (a batch held in memory: a SQL window, an API page, a frame) is prepared
    and committed in one piece; a FileBatch (a file read in chunks) is staged chunk by
    chunk and published in one transaction (:mod:`tidegate.engine._chunked`). Content
    committed already comes back as its audited skip (the commit checks)."""
    if not isinstance(raw, RawBatch):
        return ingest_file(
            store, raw, contract, reprocess=reprocess, actor=actor, monitor=monitor, stages=stages
        )

    def write(prepared: PreparedBatch) -> BatchOutcome:
        outcome = stages.commit(store, prepared, contract, reprocess, actor)
        alerts = stages.observe(store, monitor, prepared.routed, outcome, contract, actor)
        return outcome.with_alerts([a.kind for a in alerts])

    return run_batch(raw, contract, write, prepare_step=stages.prepare)


def ingest_file(
    store: Store,
    batch: FileBatch,
    contract: Contract,
    *,
    reprocess: bool = False,
    actor: str | None = None,
    monitor: MonitorConfig | None = None,
    stages: Stages = ENGINE_STAGES,
) -> BatchOutcome:
    """One file read in chunks: staged, published, monitored; a file found unreadable
    part-way is quarantined whole, one that changed while read is deferred."""
    staged = stages.stage(store, batch, contract, reprocess, actor)
    if isinstance(staged, FileReject):
        return stages.reject(store, staged, contract, reprocess, actor)
    if isinstance(staged, Deferred):
        return staged.audited(store, actor)
    if isinstance(staged, Committed):  # a file of one chunk, committed in one piece
        if staged.profile is None:
            return staged.outcome
        outcome, profile = staged.outcome, staged.profile
    else:
        outcome = stages.publish(store, staged, batch, contract, reprocess, actor)
        profile = staged.profile
    alerts = stages.observe(store, monitor, profile, outcome, contract, actor)
    return outcome.with_alerts([a.kind for a in alerts])
