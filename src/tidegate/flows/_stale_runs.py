"""Flow runs left ``Running`` by a killed process, marked ``Crashed`` by the next run.

A process killed with ``kill -9`` (or a machine that lost power) cannot tell Prefect
that its flow run ended, so the run stays ``Running`` for ever. Each ``ingest`` run
therefore records, as it starts, which process runs it (the flow run's
``infrastructure_pid``, ``host:pid``, as Prefect's process worker writes it) and which
source it ingests (a tag, :data:`SOURCE_TAG`). Once it holds the source's run lock it
looks for other ``Running`` runs of the same source: one whose process is gone (on this
host: no such pid, or a pid started after the run, so reused) is set to ``Crashed``
with a message saying so. A run on another host, or with no process recorded, is left
as it is: from here its process cannot be checked.

Never fails the run: Prefect being slow or refusing is logged, and the ingest goes on.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from pathlib import Path

log = logging.getLogger("tidegate.flows")

SOURCE_TAG = "tidegate-source:{}"


def process_id() -> str:
    """This process, as a flow run's ``infrastructure_pid``: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(source: str) -> None:
    """Tag the current flow run with its source and record the process running it."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    run = context.flow_run if context else None
    if run is None:
        return
    tags = sorted({*run.tags, SOURCE_TAG.format(source)})
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(
                run.id, tags=tags, infrastructure_pid=run.infrastructure_pid or process_id()
            )
    except Exception as exc:  # never stops the ingest
        log.warning("could not record this flow run's process in Prefect: %s", exc)


def _started_after(pid: int, moment: datetime) -> bool:
    """Did process ``pid`` start after ``moment``? (Linux /proc; False where unknown.)"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        ticks = float(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime
        started = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return started > moment.timestamp() + 1.0


def process_gone(infrastructure_pid: str | None, started: datetime | None) -> bool | None:
    """Is the process that ran a flow run gone? None when it cannot be told from here
    (another host, no process recorded)."""
    host, _, pid_text = (infrastructure_pid or "").rpartition(":")
    if not host or host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    return started is not None and _started_after(pid, started)


def crash_stale_runs(source: str) -> list[str]:
    """Mark ``Crashed`` the other ``Running`` ingest runs of ``source`` whose process is
    gone; their ids. Call it holding the source's run lock."""
    try:
        return _crash_stale_runs(source)
    except Exception as exc:  # never stops the ingest
        log.warning("could not check Prefect for runs of %s left Running: %s", source, exc)
        return []


def _crash_stale_runs(source: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.context import FlowRunContext
    from prefect.states import Crashed

    context = FlowRunContext.get()
    current = context.flow_run.id if context and context.flow_run else None
    running = FlowRunFilter(
        tags=FlowRunFilterTags(all_=[SOURCE_TAG.format(source)]),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
    )
    crashed: list[str] = []
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(flow_run_filter=running, limit=200):
            if run.id == current or not process_gone(run.infrastructure_pid, run.start_time):
                continue
            message = (
                f"the process that ran it ({run.infrastructure_pid}) is gone (killed or "
                f"stopped without ending the run); marked crashed by flow run {current} of "
                f"the same source ({source}). What it committed is in the store; what it had "
                "not committed was read again by the later run."
            )
            client.set_flow_run_state(run.id, state=Crashed(message=message), force=True)
            log.warning("flow run %s (%s) marked crashed: %s", run.name, run.id, message)
            crashed.append(str(run.id))
    return crashed
