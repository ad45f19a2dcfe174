"""The engine's steps as Prefect tasks, for the ``ingest`` flow and for teams who
compose their own flows (``from tidegate.tasks import prepare_task, commit_task``).
A batch held in memory runs as ``prepare`` and ``commit``, a file read in chunks as
``stage`` and ``publish``; both then ``monitor``.

Each task only wraps one engine step (:mod:`tidegate.engine`): no logic here. Store
tasks retry transient errors only (a locked store); ``prepare`` touches nothing
outside the process, so it is not retried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE

from tidegate import engine
from tidegate.batches import FileBatch, FileReject, RawBatch
from tidegate.contracts import Contract
from tidegate.engine import Committed, Deferred, PreparedBatch, StagedBatch, Stages
from tidegate.flows._task_options import TASK_OPTIONS
from tidegate.monitor import monitor_task
from tidegate.store import BatchOutcome

if TYPE_CHECKING:
    from tidegate.store import Store


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_task(raw: RawBatch, contract: Contract) -> PreparedBatch:
    """normalize -> validate -> route one raw batch (no store)."""
    return engine.prepare(raw, contract)


@task(name="commit", **TASK_OPTIONS)
def commit_task(
    store: Store, prepared: PreparedBatch, contract: Contract, reprocess: bool, actor: str | None
) -> BatchOutcome:
    """Commit one prepared batch in one store transaction."""
    return engine.commit(store, prepared, contract, reprocess, actor)


@task(name="stage", **TASK_OPTIONS)
def stage_task(
    store: Store, batch: FileBatch, contract: Contract, reprocess: bool, actor: str | None
) -> StagedBatch | Committed | FileReject | Deferred:
    """Read, check and stage every chunk of one file (each chunk in its own short store
    transaction), or commit a file of one chunk in one piece; returns a small summary,
    never the rows."""
    return engine.stage(store, batch, contract, reprocess, actor)


@task(name="publish", **TASK_OPTIONS)
def publish_task(
    store: Store,
    staged: StagedBatch,
    batch: FileBatch,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
) -> BatchOutcome:
    """Publish one staged file in one store transaction (the whole-batch rules, then the
    rows, the checkpoint and the audit entry), or audit its skip."""
    return engine.publish(store, staged, batch, contract, reprocess, actor)


@task(name="commit-file-reject", **TASK_OPTIONS)
def reject_task(
    store: Store, reject: FileReject, contract: Contract, reprocess: bool, actor: str | None
) -> BatchOutcome:
    """One file-level quarantine entry for a file that could not be read."""
    return engine.reject(store, reject, contract, reprocess, actor)


@task(name="skip-committed", **TASK_OPTIONS)
def skip_task(
    store: Store,
    source: str,
    skips: list[tuple[str, str]],
    contract: Contract,
    actor: str | None,
) -> list[BatchOutcome]:
    """Audit consecutive skips, ``(location, batch_key)`` each, in one transaction."""
    return engine.skip(store, source, skips, contract, actor)


TASK_STAGES = Stages(
    prepare=prepare_task,
    commit=commit_task,
    observe=monitor_task,
    reject=reject_task,
    skip=skip_task,
    stage=stage_task,
    publish=publish_task,
)
