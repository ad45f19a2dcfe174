"""Flow runs a kill left ``Running`` are marked ``Crashed`` by the next run of the same
source (issue 17): a real ``tidegate run`` killed with SIGKILL part-way, then the real
flow again; runs whose process lives, or that ran elsewhere, are left alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import scalar
from store_backends import store_arg
from tidegate.flows._stale_runs import SOURCE_TAG
from tidegate.store import Store

EXE = str(Path(sys.executable).with_name("tidegate"))
CONTRACT = """\
source: stale
version: 1
primary_key: [id]
columns:
  id: {type: int64}
  amount: {type: float64, checks: [{ge: 0}]}
"""
PIPELINE = """\
name: stale
source: {kind: file, path: data/*.csv, format: csv, chunk_size: 10}
contract: schemas/stale.yaml
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "schemas" / "stale.yaml").write_text(CONTRACT)
    (tmp_path / "pipelines" / "stale.yaml").write_text(PIPELINE)
    rows = ["id,amount"] + [f"{i},{i}.5" for i in range(1, 101)]
    (tmp_path / "data" / "part1.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def _runs(state: str | None = None) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[SOURCE_TAG.format("stale")]))
        )
    return [r for r in runs if state is None or r.state_type.value == state]


def _kill_part_way(project: Path, store: Store, prefect_api: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEGATE_TEST_")}
    env.update({"PREFECT_API_URL": prefect_api, "TIDEGATE_TEST_PAUSE_AFTER_CHUNK": "600"})
    proc = subprocess.Popen(
        [EXE, "run", "stale", "--project", str(project), "--store", store_arg(store)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 300
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if "staged chunk 0" in line:
            proc.send_signal(signal.SIGKILL)
            proc.wait(60)
            return proc.pid
    proc.kill()
    raise AssertionError(f"never reached the first chunk: {''.join(seen)[-3000:]}")


def _fake_running_run(infrastructure_pid: str) -> str:
    """A Running ingest run of the source, as another process would have left it."""
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    from tidegate.flows import ingest_flow

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(
            ingest_flow(), tags=[SOURCE_TAG.format("stale")], state=Running()
        )
        client.update_flow_run(run.id, infrastructure_pid=infrastructure_pid)
    return str(run.id)


def test_a_killed_run_is_marked_crashed_by_the_next_run(
    project: Path, store: Store, prefect_api: str
) -> None:
    from tidegate.flows import ingest_flow

    earlier = {str(r.id) for r in _runs()}  # the session's server may hold older runs
    killed_pid = _kill_part_way(project, store, prefect_api)
    (killed,) = [r for r in _runs("RUNNING") if r.infrastructure_pid.endswith(f":{killed_pid}")]
    elsewhere = _fake_running_run("another-host.example:4242")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        alive = _fake_running_run(f"{socket.gethostname()}:{sleeper.pid}")
        outcomes = ingest_flow()(pipeline="stale", project_dir=str(project), store=store_arg(store))
        states = {str(r.id): r.state for r in _runs() if str(r.id) not in earlier}
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [o["event"] for o in outcomes] == ["batch_committed"]
    assert scalar(store, "SELECT count(*) FROM stale") == 100  # the killed run left nothing

    crashed = states[str(killed.id)]
    assert crashed.type.value == "CRASHED"
    assert f":{killed_pid}) is gone" in (crashed.message or "")
    assert "marked crashed by flow run" in (crashed.message or "")
    assert states[alive].type.value == "RUNNING", "a run whose process lives is left alone"
    assert states[elsewhere].type.value == "RUNNING", "another host's run cannot be checked"
    finished = [s for i, s in states.items() if i not in (str(killed.id), alive, elsewhere)]
    assert [s.type.value for s in finished] == ["COMPLETED"]


def test_a_reused_pid_counts_as_gone() -> None:
    """A pid that lives but started after the run began is another process."""
    from datetime import UTC, datetime, timedelta

    from tidegate.flows._stale_runs import process_gone

    me = f"{socket.gethostname()}:{os.getppid()}"  # started before "now"
    assert process_gone(me, datetime.now(UTC)) is False
    assert process_gone(me, datetime.now(UTC) - timedelta(days=3650)) is True
    assert process_gone("another-host.example:1", datetime.now(UTC)) is None
    assert process_gone(None, datetime.now(UTC)) is None
