"""Pipeline `schedule:`, `concurrency:` and `retries:` keys; next runs; a served deployment."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from tidegate.errors import PipelineError
from tidegate.pipelines import load_pipeline
from tidegate.pipelines._schedule import (
    ConcurrencyConfig,
    ScheduleSpec,
    format_duration,
    parse_concurrency,
    parse_retries,
    parse_schedule,
)
from tidegate.store import DuckDBStore, Store

F = Path("pipelines/orders.yaml")


def write_pipeline(project: Path, name: str = "customers", **keys: Any) -> Path:
    data = {
        "name": name,
        "source": {"kind": "file", "path": "sample_data/customers/*.jsonl", "format": "jsonl"},
        "contract": "schemas/customers.yaml",
        **keys,
    }
    path = project / "pipelines" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    shutil.copytree(project_root / "schemas", tmp_path / "schemas")
    shutil.copytree(
        project_root / "sample_data" / "customers", tmp_path / "sample_data" / "customers"
    )
    return tmp_path


# --- parsing ---------------------------------------------------------------------------


def test_cron_with_timezone() -> None:
    spec = parse_schedule(F, {"cron": "0 * * * *", "timezone": "Europe/Berlin"})
    assert spec == ScheduleSpec(cron="0 * * * *", timezone="Europe/Berlin")
    assert spec.describe() == "cron 0 * * * * (Europe/Berlin)"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (3600, 3600.0),
        (2.5, 2.5),
        ("1h", 3600.0),
        ("15m", 900.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
    ],
)
def test_interval_in_seconds_or_units(value: object, seconds: float) -> None:
    spec = parse_schedule(F, {"interval": value})
    assert spec is not None and spec.interval_seconds == seconds and spec.timezone == "UTC"


def test_no_schedule_is_none() -> None:
    assert parse_schedule(F, None) is None


@pytest.mark.parametrize(
    ("value", "key", "valid"),
    [
        ({"cron": "61 * * * *"}, "schedule.cron", "cron expression"),
        ({"cron": "every hour"}, "schedule.cron", "cron expression"),
        ({"cron": "0 * * * *", "timezone": "Mars/Olympus"}, "schedule.timezone", "IANA"),
        ({"interval": "soon"}, "schedule.interval", '"15m"'),
        ({"interval": 0}, "schedule.interval", "greater than zero"),
        ({"interval": -5}, "schedule.interval", "greater than zero"),
        ({"interval": True}, "schedule.interval", "seconds"),
        ({"cron": "0 * * * *", "interval": 60}, "schedule", "exactly one of cron or interval"),
        ({}, "schedule", "exactly one of cron or interval"),
        ({"crn": "0 * * * *"}, "schedule.crn", "cron, interval, timezone"),
        ("hourly", "schedule", "a mapping"),
    ],
)
def test_bad_schedules_name_file_key_value_and_what_is_valid(
    value: object, key: str, valid: str
) -> None:
    with pytest.raises(PipelineError) as info:
        parse_schedule(F, value)
    message = str(info.value)
    assert str(F) in message and f"{key}:" in message and valid in message
    shown = value[key.split(".")[1]] if isinstance(value, dict) and "." in key else value
    assert repr(shown) in message


def test_concurrency_defaults_and_values() -> None:
    assert parse_concurrency(F, None) == ConcurrencyConfig(limit=1, on_busy="wait")
    assert parse_concurrency(F, {"on_busy": "skip"}) == ConcurrencyConfig(1, "skip")
    assert parse_concurrency(F, {"limit": 2}) == ConcurrencyConfig(2, "wait")
    for bad, key in [
        ({"limit": 0}, "concurrency.limit"),
        ({"limit": "one"}, "concurrency.limit"),
        ({"on_busy": "drop"}, "concurrency.on_busy"),
        ({"max": 1}, "concurrency.max"),
        (1, "concurrency"),
    ]:
        with pytest.raises(PipelineError, match=key.replace(".", r"\.")) as info:
            parse_concurrency(F, bad)
        assert str(F) in str(info.value)
    with pytest.raises(PipelineError, match=r"wait .* or skip"):
        parse_concurrency(F, {"on_busy": "drop"})


def test_retries() -> None:
    assert parse_retries(F, None) == 0 and parse_retries(F, 3) == 3
    for bad in (-1, 11, "3", 1.5, True):
        with pytest.raises(PipelineError, match=r"retries: .* from 0 to 10"):
            parse_retries(F, bad)


def test_pipeline_file_carries_the_new_keys(project: Path) -> None:
    path = write_pipeline(
        project,
        schedule={"interval": "15m", "timezone": "Europe/Berlin"},
        concurrency={"on_busy": "skip"},
        retries=2,
    )
    p = load_pipeline(path, project)
    assert p.schedule == {"interval": "15m", "timezone": "Europe/Berlin"}
    assert p.schedule_spec == ScheduleSpec(interval_seconds=900.0, timezone="Europe/Berlin")
    assert p.concurrency == ConcurrencyConfig(1, "skip") and p.retries == 2
    plain = load_pipeline(write_pipeline(project, name="plain"), project)
    assert plain.schedule_spec is None and plain.concurrency == ConcurrencyConfig()
    assert plain.retries == 0


def test_bad_key_in_a_pipeline_file_is_refused(project: Path) -> None:
    path = write_pipeline(project, schedule={"cron": "0 25 * * *"})
    with pytest.raises(PipelineError, match=r"customers\.yaml: schedule\.cron: '0 25 \* \* \*'"):
        load_pipeline(path, project)


def test_sample_pipelines_still_load(project_root: Path) -> None:
    from tidegate.pipelines import load_pipelines

    assert [p.name for p in load_pipelines(project_root)] == ["customers", "inventory", "orders"]


# --- next run --------------------------------------------------------------------------


def test_next_run_of_a_cron_in_its_timezone() -> None:
    spec = ScheduleSpec(cron="0 6 * * *", timezone="Europe/Berlin")
    now = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("UTC"))  # 13:00 in Berlin (CET)
    nxt = spec.next_run(now)
    assert nxt == datetime(2026, 3, 29, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert nxt.utcoffset() is not None and nxt.utcoffset().total_seconds() == 7200  # CEST
    assert spec.next_run(datetime(2026, 3, 29, 4, 0, tzinfo=ZoneInfo("UTC"))).day == 30


def test_next_run_of_an_interval_is_anchored() -> None:
    hourly = ScheduleSpec(interval_seconds=3600, timezone="Europe/Berlin")
    now = datetime(2026, 7, 1, 10, 17, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert hourly.next_run(now) == datetime(2026, 7, 1, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    on_the_hour = datetime(2026, 7, 1, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert hourly.next_run(on_the_hour).hour == 12  # strictly after now
    quarter = ScheduleSpec(interval_seconds=900)
    got = quarter.next_run(datetime(2026, 7, 1, 10, 17, tzinfo=ZoneInfo("UTC")))
    assert got == datetime(2026, 7, 1, 10, 30, tzinfo=ZoneInfo("UTC"))
    assert format_duration(5400) == "1h30m" and format_duration(2.5) == "2.5s"


def test_next_run_matches_the_prefect_server() -> None:
    """pipelines list and the Prefect server agree on the next run (same anchor, same tz)."""
    from prefect.server.schemas.schedules import CronSchedule, IntervalSchedule

    from tidegate.flows._deploy import prefect_schedule

    now = datetime(2026, 3, 29, 0, 17, 3, tzinfo=ZoneInfo("UTC"))  # DST starts in Berlin
    for spec in (
        ScheduleSpec(interval_seconds=900, timezone="Europe/Berlin"),
        ScheduleSpec(interval_seconds=86400, timezone="Europe/Berlin"),
        ScheduleSpec(cron="30 2,3 * * *", timezone="Europe/Berlin"),
        ScheduleSpec(cron="0 6 * * 1-5", timezone="America/New_York"),
    ):
        schedule = prefect_schedule(spec)
        assert schedule is not None and schedule.timezone == spec.timezone
        server: CronSchedule | IntervalSchedule
        if spec.cron:
            server = CronSchedule(cron=spec.cron, timezone=spec.timezone)
        else:
            assert schedule.anchor_date == spec.anchor()
            server = IntervalSchedule(
                interval=schedule.interval, anchor_date=spec.anchor(), timezone=spec.timezone
            )
        dates = asyncio.run(server.get_dates(n=1, start=now))
        assert dates[0] == spec.next_run(now), spec


# --- deployments -----------------------------------------------------------------------


def test_deployments_carry_schedule_parameters_concurrency_and_retries(
    project: Path, tmp_path: Path
) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    from tidegate.flows._deploy import build_deployments, plan_deployments

    write_pipeline(project, schedule={"cron": "0 6 * * *", "timezone": "Europe/Berlin"})
    write_pipeline(
        project,
        name="skipper",
        schedule={"interval": 30},
        concurrency={"on_busy": "skip"},
        retries=2,
    )
    store = tmp_path / "s.duckdb"
    plans = plan_deployments(project, store)
    assert [p.name for p in plans] == ["customers", "skipper"]
    cron, interval = build_deployments(plans)
    assert cron.name == "customers" and cron.flow_name == "ingest"
    assert cron.parameters == {
        "pipeline": "customers",
        "project_dir": str(project.resolve()),
        "store": str(store.resolve()),
    }
    assert cron.schedules[0].schedule.cron == "0 6 * * *"
    assert cron.schedules[0].schedule.timezone == "Europe/Berlin"
    assert cron.concurrency_limit == 1
    assert cron.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
    assert interval.schedules[0].schedule.interval.total_seconds() == 30
    assert interval.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert plans[1].flow.retries == 2 and plans[0].flow.retries in (None, 0)
    with pytest.raises(PipelineError, match="no pipeline named 'nope'"):
        plan_deployments(project, store, ["nope"])


def test_a_postgres_store_is_a_deployment_parameter_as_written(project: Path) -> None:
    """The served test below runs on DuckDB only (each run costs ~30 s); what differs for a
    PostgreSQL store is the parameter: the URL as written, ``${ENV}`` unresolved, so the
    password stays out of the deployment and each worker resolves it from its environment."""
    from tidegate.flows._deploy import build_deployments, plan_deployments
    from tidegate.store import open_store

    write_pipeline(project, schedule={"interval": 30})
    url = "postgresql://flows:${PGPASSWORD}@db.internal/warehouse?options=-csearch_path%3Dtg"
    (plan,) = plan_deployments(project, open_store(url))
    assert plan.parameters["store"] == url
    (deployment,) = build_deployments([plan])
    assert deployment.parameters["store"] == url


SERVE_SCRIPT = """
import sys, typer
from tidegate.cli._pipelines import serve
typer.run(serve)
"""


@pytest.mark.e2e
def test_served_interval_schedule_runs_twice(
    project: Path, tmp_path: Path, prefect_api: str
) -> None:
    """`tidegate serve` on a 3 s interval: two scheduled runs complete; first commits, then skips.

    The session's temporary Prefect server runs no scheduler service (a `prefect server
    start` does), so the test asks the API to schedule the deployment's next two runs
    (`POST /deployments/{id}/schedule`, what the scheduler service does); the served
    process picks them up at their times and runs them.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound

    name = f"served_{os.getpid()}_{int(time.time())}"
    write_pipeline(project, name=name, schedule={"interval": 3})
    store = tmp_path / "served.duckdb"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # look for due runs every second, not 10
    }
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, "--project", str(project), "--store", str(store)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    async def completed() -> list[Any]:
        async with get_client() as client:
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.COMPLETED])
                    )
                ),
            )

    async def schedule_two() -> bool:
        async with get_client() as client:
            try:
                deployment = await client.read_deployment_by_name(f"ingest/{name}")
            except ObjectNotFound:
                return False
            limit = deployment.global_concurrency_limit
            assert deployment.schedules and limit is not None and limit.limit == 1
            response = await client._client.post(
                f"/deployments/{deployment.id}/schedule", json={"min_runs": 2, "max_runs": 2}
            )
            response.raise_for_status()
            return True

    try:
        deadline = time.monotonic() + 60
        while not asyncio.run(schedule_two()):
            assert time.monotonic() < deadline and proc.poll() is None, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.5)
        runs: list[Any] = []
        while time.monotonic() < deadline and proc.poll() is None:
            runs = asyncio.run(completed())
            if len(runs) >= 2:
                break
            time.sleep(1)
        assert len(runs) >= 2, (tmp_path / "serve.log").read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert all(r.parameters["pipeline"] == name for r in runs)
    with duckdb.connect(str(store), read_only=True) as con:
        events = con.execute(
            "SELECT event FROM audit WHERE event LIKE 'batch_%' ORDER BY seq"
        ).fetchall()
    assert [e for (e,) in events][:2] == ["batch_committed", "batch_skipped"]


# --- the per-source lock -----------------------------------------------------------------


def test_lock_waits_or_skips(store: Store) -> None:
    """The same behaviour from a lock file (DuckDB) and an advisory lock (PostgreSQL)."""
    order: list[str] = []
    with store.source_lock("orders") as held:
        assert held
        assert not isinstance(store, DuckDBStore) or store.source_lock_path("orders").exists()
        with store.source_lock("orders", "skip") as again:
            assert again  # re-entrant in the thread that holds it

        def other_thread() -> None:
            with store.source_lock("orders", "skip") as second:
                order.append(f"second holder: {second}")

        t = threading.Thread(target=other_thread)
        t.start()
        t.join(5)
        assert order.pop() == "second holder: False"  # another thread is refused
        with store.source_lock("customers", "skip") as other:
            assert other  # other sources are not blocked

        def waiter() -> None:
            with store.source_lock("orders", "wait"):
                order.append("waiter")

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)
        order.append("holder done")
    thread.join(5)
    assert order == ["holder done", "waiter"]
    taken, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.source_lock("orders"):
            taken.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert taken.wait(5)
    try:
        with (
            pytest.raises(PipelineError, match="still being ingested"),
            store.source_lock("orders", wait_seconds=0.2),
        ):
            pass
    finally:
        release.set()
        thread.join(5)
    with pytest.raises(PipelineError, match="on_busy"), store.source_lock("orders", "later"):
        pass
