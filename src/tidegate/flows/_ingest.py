"""The ``ingest`` Prefect flow: one run per source, tasks for normalize, validate, commit.

The flow holds no logic: it wires the stages and adds retries, tracing and an
artifact. Only transient errors (a locked store, a source that timed out) are
retried; bad configuration fails at once, and bad data never fails at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.states import Completed

from tidegate.contracts import Contract, load_contract
from tidegate.errors import SourceUnavailableError
from tidegate.flows._artifacts import publish_summary
from tidegate.flows._events import emit_batch_events
from tidegate.flows._outcome import HELD_STATE, verdict
from tidegate.flows._pipelines import find_pipeline
from tidegate.flows._progress import emit
from tidegate.flows._report_artifacts import publish_report_artifacts
from tidegate.flows._skips import skip_committed
from tidegate.flows._steps import route_batch
from tidegate.flows._task_options import TASK_OPTIONS
from tidegate.monitor import MonitorConfig, monitor_task
from tidegate.normalize import NormalizedBatch, normalize
from tidegate.route import RoutedBatch
from tidegate.sources import FileReject, RawBatch, source_from_config
from tidegate.store import (
    BatchOutcome,
    commit_batch,
    commit_file_reject,
    default_store_path,
    record_skip,
    record_source_failure,
)
from tidegate.store._location import parse_store
from tidegate.validate import ValidatedBatch, validate

if TYPE_CHECKING:
    from tidegate.store._location import Store


def read_next(
    items: Iterator[RawBatch | FileReject | BatchOutcome],
) -> RawBatch | FileReject | BatchOutcome | None:
    """The next item, read in the flow itself: a Prefect task per item costs a task run
    even for a skipped file, and a generator cannot be retried (sources retry their own
    calls and raise SourceUnavailableError when they give up)."""
    return next(items, None)


@task(name="normalize", cache_policy=NO_CACHE)
def normalize_task(raw: RawBatch, contract: Contract) -> NormalizedBatch:
    return normalize(raw.frame, contract)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(normalized: NormalizedBatch, contract: Contract) -> ValidatedBatch:
    return validate(normalized.frame, contract)


@task(name="route", cache_policy=NO_CACHE)
def route_task(
    raw: RawBatch, normalized: NormalizedBatch, validated: ValidatedBatch, contract: Contract
) -> RoutedBatch:
    return route_batch(raw, normalized, validated, contract)


@task(name="commit", **TASK_OPTIONS)
def commit_task(
    store: Store,
    routed: RoutedBatch,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    duration_ms: int,
    cursor: tuple[str, str] | None = None,
) -> BatchOutcome:
    return commit_batch(
        store,
        routed,
        contract,
        reprocess=reprocess,
        actor=actor,
        duration_ms=duration_ms,
        cursor=cursor,
    )


@task(name="commit-file-reject", **TASK_OPTIONS)
def commit_reject_task(
    store: Store, reject: FileReject, contract: Contract, reprocess: bool, actor: str | None
) -> BatchOutcome:
    return commit_file_reject(store, reject, contract=contract, reprocess=reprocess, actor=actor)


@task(name="skip", **TASK_OPTIONS)
def skip_task(
    store: Store, raw: RawBatch, contract: Contract, actor: str | None
) -> BatchOutcome | None:
    return record_skip(
        store, raw.source, raw.location, f"sha256:{raw.content_sha256}", contract, actor
    )


def _one_batch(
    store: Store,
    raw: RawBatch,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None = None,
) -> BatchOutcome:
    # content committed already was skipped by ``skip_committed``; commit_task checks again
    started = time.perf_counter()
    normalized = normalize_task(raw, contract)
    validated = validate_task(normalized, contract)
    routed = route_task(raw, normalized, validated, contract)
    duration_ms = int((time.perf_counter() - started) * 1000)
    cursor = (
        (raw.cursor_column, raw.cursor_value) if raw.cursor_column and raw.cursor_value else None
    )
    outcome = commit_task(store, routed, contract, reprocess, actor, duration_ms, cursor)
    alerts = monitor_task(store, monitor, routed, outcome, contract, actor)
    return outcome.with_alerts([a.kind for a in alerts])


@flow(name="ingest", log_prints=False, validate_parameters=False)
def ingest(
    pipeline: str,
    project_dir: str = ".",
    store: str | None = None,
    reprocess: bool = False,
    actor: str | None = None,
) -> Any:
    """Ingest every new batch of one pipeline's source into the store.

    One run per source at a time: a second run waits or is skipped (the pipeline's
    ``concurrency.on_busy``), so runs never interleave. Returns one dict per batch
    (``BatchOutcome.as_dict()``); when data was held back (a held batch, a rejected
    file, quarantine over the monitor's threshold) the run ends in the state ``Held``
    with a message saying what (see :mod:`tidegate.flows._outcome`), and every batch
    outcome is a Prefect event ``tidegate.batch.*``.
    """
    project = Path(project_dir).resolve()
    spec = find_pipeline(project, pipeline)
    contract = load_contract(spec.contract_path)
    parallel = False
    if spec.parallel is not None:  # ``parallel:``: this run's items go to a Dask cluster
        from tidegate.flows._parallel import dask_task_runner, uses_dask

        context = FlowRunContext.get()
        if not uses_dask(context.task_runner if context else None):
            runner = dask_task_runner(spec.parallel)
            dask_ingest = ingest.with_options(task_runner=runner)
            dask_outcomes: Any = dask_ingest(pipeline, project_dir, store, reprocess, actor)
            return final_state(dask_outcomes)
        parallel = True
    store_path = parse_store(store) if store else default_store_path(project)
    with store_path.source_lock(spec.name, spec.concurrency.on_busy) as held:
        if not held:  # another run of this source is in progress and on_busy is skip
            emit("source_busy", source=spec.name)
            return []
        source = source_from_config(
            contract.source, spec.source, project, store=store_path, reprocess=reprocess
        )
        read = iter(source.read())
        items: Iterator[RawBatch | FileReject | BatchOutcome] = (
            read  # read here, processed in Dask workers (which check for skips themselves)
            if parallel  # else committed content comes out as its audited skip
            else skip_committed(read, store_path, contract, actor, reprocess=reprocess)
        )
        outcomes: list[BatchOutcome] = []
        futures: list[Any] = []
        emit("source_started", source=spec.name)
        while (item := _read_or_audit(items, store_path, contract.source, actor)) is not None:
            emit("batch_started", source=spec.name, location=item.location)
            if parallel and not isinstance(item, BatchOutcome):
                previous = futures[-1] if futures else None
                futures.append(
                    _submit_item(store_path, item, contract, reprocess, actor, spec, previous)
                )
                continue
            if isinstance(item, BatchOutcome):  # skipped: already committed, skip audited
                outcome = item
            elif isinstance(item, FileReject):
                outcome = commit_reject_task(store_path, item, contract, reprocess, actor)
            else:
                outcome = _one_batch(store_path, item, contract, reprocess, actor, spec.monitor)
            outcomes.append(outcome)
            _batch_done(spec.name, outcome)
        for future in futures:  # in submission order, so the summary reads like a sequential run
            outcome = future.result()
            outcomes.append(outcome)
            _batch_done(spec.name, outcome)
        publish_summary(spec.name, outcomes)
        publish_report_artifacts(store_path, contract.source)
        emit("source_done", source=spec.name, outcomes=outcomes)
        return final_state([o.as_dict() for o in outcomes])


def _batch_done(source: str, outcome: BatchOutcome) -> None:
    emit_batch_events(outcome.as_dict())
    emit("batch_done", source=source, outcome=outcome)


def final_state(outcomes: list[dict[str, Any]]) -> Any:
    """The flow's return: the outcomes, or a ``Held`` state carrying them when data was
    held back (COMPLETED by type, so flow retries do not run it again)."""
    run = verdict(outcomes)
    if not run.data_held:
        return outcomes
    return Completed(name=HELD_STATE, message=run.message, data=outcomes)


def _submit_item(
    store: Store,
    item: RawBatch | FileReject,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    spec: Any,
    previous: Any,
) -> Any:
    from tidegate.flows._parallel import submit_item

    return submit_item(store, item, contract, reprocess, actor, spec.monitor, previous)


def _read_or_audit(
    items: Iterator[RawBatch | FileReject | BatchOutcome],
    store: Store,
    source: str,
    actor: str | None,
) -> RawBatch | FileReject | BatchOutcome | None:
    """The next item; a source that gave up after its retries is audited, then re-raised."""
    try:
        return read_next(items)
    except SourceUnavailableError as exc:
        record_source_failure(store, source, str(exc), actor=actor)
        raise
