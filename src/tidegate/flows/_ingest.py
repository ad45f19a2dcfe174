"""The ``ingest`` Prefect flow: one run per source, the engine's steps as tasks.

The flow holds no logic: it runs the engine (:func:`tidegate.engine.run_items`) with
each step wrapped in a Prefect task (:data:`tidegate.flows._tasks.TASK_STAGES`) and
adds retries, states, events, progress and artifacts. Only transient errors (a locked
store, a source that timed out) are retried; bad configuration fails at once, and bad
data never fails at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.context import FlowRunContext
from prefect.states import Completed

from tidegate.contracts import load_contract
from tidegate.engine import open_declared_source, run_items, verdict
from tidegate.engine._progress import emit
from tidegate.engine._run import read_options_of
from tidegate.flows._artifacts import publish_summary
from tidegate.flows._events import emit_batch_events
from tidegate.flows._outcome import HELD_STATE
from tidegate.flows._report_artifacts import publish_data_docs, publish_report_artifacts
from tidegate.flows._stale_runs import claim, crash_stale_runs
from tidegate.flows._tasks import TASK_STAGES
from tidegate.pipelines import find_pipeline
from tidegate.pipelines._confine import confine_files
from tidegate.pipelines._spec import load_shadow
from tidegate.store import BatchOutcome, default_store_path, open_store


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
    claim(spec.name)  # so that a later run can tell when this one's process is gone
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
    store_path = open_store(store) if store else default_store_path(project)
    with store_path.source_lock(spec.name, spec.concurrency.on_busy) as held:
        if not held:  # another run of this source is in progress and on_busy is skip
            emit("source_busy", source=spec.name)
            return []
        crash_stale_runs(spec.name)  # earlier runs of the source a kill left Running
        source = open_declared_source(
            store_path, contract.source, spec.source, project, reprocess, contract
        )
        confine_files(source, spec.allowed_paths)  # no symlink out of the project
        emit("source_started", source=spec.name)
        if parallel:  # read here, prepared and committed in order in Dask workers
            from tidegate.flows._parallel import run_on_dask

            outcomes = run_on_dask(
                store_path,
                source.read(),
                contract,
                reprocess,
                actor,
                spec,
                on_outcome=lambda outcome: _batch_done(spec.name, outcome),
            )
        else:
            outcomes = run_items(
                store_path,
                source.read(),
                contract,
                reprocess=reprocess,
                actor=actor,
                monitor=spec.monitor,
                stages=TASK_STAGES,
                on_item=lambda item: emit(
                    "batch_started", source=spec.name, location=item.location
                ),
                on_outcome=lambda outcome: _batch_done(spec.name, outcome),
                read_options=read_options_of(source),
                shadow=load_shadow(spec, contract),
            )
        publish_summary(spec.name, outcomes)
        publish_report_artifacts(store_path, contract.source)
        if spec.data_docs is not None and contract.expectations is not None:
            publish_data_docs(store_path, contract.source, spec.data_docs)
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
