"""Prefect tasks and the flow, for teams who compose their own flows.

Each task wraps one step of the engine (:mod:`tidegate.engine`); pass them to
:func:`tidegate.engine.ingest_batch` as ``stages=TASK_STAGES`` to run a batch as
tasks, or call them one by one::

    from prefect import flow
    from tidegate.tasks import commit_task, prepare_task

    @flow
    def my_flow(batch, contract, store):
        prepared = prepare_task(batch, contract)
        return commit_task(store, prepared, contract, False, None)

A file read in chunks (a ``FileBatch``) runs as ``stage_task`` then ``publish_task``
instead: each chunk is staged in the store, and the file published in one transaction.

Importing this module imports Prefect.
"""

from tidegate.flows._ingest import ingest
from tidegate.flows._tasks import (
    TASK_STAGES,
    commit_task,
    prepare_task,
    publish_task,
    reject_task,
    skip_task,
    stage_task,
)
from tidegate.monitor import monitor_task

__all__ = [
    "TASK_STAGES",
    "commit_task",
    "ingest",
    "monitor_task",
    "prepare_task",
    "publish_task",
    "reject_task",
    "skip_task",
    "stage_task",
]
