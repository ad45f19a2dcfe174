"""`tidegate pipelines list`, `serve`, `deploy`, and one run per source at a time."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from helpers import query
from store_backends import store_arg
from tidegate.cli import _pipelines
from tidegate.store import Store, open_store

runner = CliRunner()


def cli() -> typer.Typer:
    """The commands as `_app.py` wires them (pipelines group, serve, deploy)."""
    app = typer.Typer()
    app.add_typer(_pipelines.app, name="pipelines")
    app.command("serve")(_pipelines.serve)
    app.command("deploy")(_pipelines.deploy)
    return app


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    """A copy of the sample project, to add schedules to."""
    for folder in ("schemas", "pipelines", "sample_data"):
        shutil.copytree(project_root / folder, tmp_path / "p" / folder)
    return tmp_path / "p"


def set_keys(project: Path, name: str, **keys: Any) -> None:
    path = project / "pipelines" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(keys)
    path.write_text(yaml.safe_dump(data))


def flat(output: str) -> str:
    """Output without the line breaks rich puts in long messages (between words, or
    inside a path too long for one line)."""
    return " ".join(output.split()) + " | " + output.replace("\n", "")


def list_json(project: Path, store: Store) -> dict[str, Any]:
    out = runner.invoke(
        cli(), ["pipelines", "list", "-p", str(project), "--store", store_arg(store), "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    data: dict[str, Any] = json.loads(out.output)
    return data


@pytest.mark.e2e
def test_list_after_the_demo_shows_last_results(project_root: Path, demo_copy: Store) -> None:
    store = demo_copy
    data = list_json(project_root, store)
    rows = {r["name"]: r for r in data["pipelines"]}
    assert list(rows) == ["customers", "inventory", "orders"]
    last = dict(  # in seq order: the last event of each source wins
        query(
            store,
            "SELECT source, event FROM audit WHERE event IN "
            "('batch_committed', 'batch_held', 'batch_skipped', 'file_rejected') ORDER BY seq",
        )
    )
    for name, row in rows.items():
        assert row["schedule"] is None and row["next_run"] is None
        assert row["concurrency"] == "1 at a time, wait when busy"
        assert row["last_result"] == last[name] and row["last_at"]
    assert rows["customers"]["last_result"] == "batch_committed"
    assert rows["customers"]["last_location"].endswith("customers.jsonl")
    table = runner.invoke(
        cli(), ["pipelines", "list", "-p", str(project_root), "--store", store_arg(store)]
    )
    assert table.exit_code == 0, table.output
    assert "customers" in table.output and "committed" in table.output
    assert "no store at" not in table.output
    assert "no pipeline has a schedule" in table.output


def test_list_shows_schedules_and_next_runs(project: Path, store: Store) -> None:
    """``store`` is empty: no DuckDB file, or a PostgreSQL schema without tables."""
    set_keys(project, "orders", schedule={"cron": "0 6 * * *", "timezone": "Europe/Berlin"})
    set_keys(project, "customers", schedule={"interval": "15m"}, concurrency={"on_busy": "skip"})
    data = list_json(project, store)
    rows = {r["name"]: r for r in data["pipelines"]}
    assert rows["orders"]["schedule"] == "cron 0 6 * * * (Europe/Berlin)"
    nxt = rows["orders"]["next_run"]
    assert nxt.endswith(("T06:00:00+01:00", "T06:00:00+02:00")), nxt
    assert rows["customers"]["schedule"] == "every 15m (UTC)"
    assert rows["customers"]["next_run"][14:] in (
        "00:00+00:00",
        "15:00+00:00",
        "30:00+00:00",
        "45:00+00:00",
    )
    assert rows["customers"]["concurrency"] == "1 at a time, skip when busy"
    assert rows["inventory"]["schedule"] is None
    assert all(r["last_result"] is None for r in rows.values())
    table = runner.invoke(
        cli(), ["pipelines", "list", "-p", str(project), "--store", store_arg(store)]
    )
    assert table.exit_code == 0, table.output
    assert "never run" in table.output and "no store at" in table.output


def test_list_refuses_a_bad_schedule(project: Path) -> None:
    set_keys(project, "orders", schedule={"interval": 60, "timezone": "Berlin"})
    out = runner.invoke(cli(), ["pipelines", "list", "-p", str(project)])
    assert out.exit_code == 2
    assert "orders.yaml: schedule.timezone: 'Berlin'" in flat(out.output)
    assert "IANA" in out.output
    bad = runner.invoke(cli(), ["pipelines", "list", "-p", str(project), "-f", "xml"])
    assert bad.exit_code == 2 and "table or json" in bad.output


def test_list_does_not_import_prefect(project_root: Path, store: Store) -> None:
    script = (
        "import sys; from typer.testing import CliRunner; import typer\n"
        "from tidegate.cli import _pipelines\n"
        "app = typer.Typer(); app.add_typer(_pipelines.app, name='pipelines')\n"
        "app.command('noop')(lambda: None)\n"
        f"r = CliRunner().invoke(app, ['pipelines', 'list', '-p', {str(project_root)!r}, "
        f"'--store', {store_arg(store)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_serve_and_deploy_explain_what_they_need(project: Path, tmp_path: Path) -> None:
    # a new shell: no Prefect API configured and no tidegate server running
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TIDEGATE_"))}
    env["TIDEGATE_HOME"] = str(tmp_path / "home")
    exe = Path(sys.executable).with_name("tidegate")
    proc = subprocess.run(
        [str(exe), "serve", "-p", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    message = flat(proc.stderr)
    assert "needs a Prefect server that outlives it" in message
    assert "`tidegate server start`" in message and "prefect server start" in message
    assert not (tmp_path / "home" / "prefect-server" / "server.json").exists()  # none started
    out = runner.invoke(cli(), ["deploy", "-p", str(project)])
    assert out.exit_code == 2
    assert "--pool" in out.output and "prefect work-pool create" in flat(out.output)
    assert "tidegate serve" in flat(out.output)


@pytest.mark.e2e
def test_deploy_registers_deployments_for_a_work_pool(
    project: Path, tmp_path: Path, prefect_api: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    pool = f"tidegate-test-{os.getpid()}"
    set_keys(project, "orders", schedule={"cron": "0 6 * * *", "timezone": "Europe/Berlin"})

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=pool, type="process"))

    asyncio.run(create_pool())
    store = tmp_path / "s.duckdb"
    missing = runner.invoke(cli(), ["deploy", "--pool", "no-such-pool", "-p", str(project)])
    assert missing.exit_code == 2 and "no-such-pool" in missing.output
    out = runner.invoke(
        cli(), ["deploy", "orders", "--pool", pool, "-p", str(project), "--store", str(store)]
    )
    assert out.exit_code == 0, out.output
    assert "deployed ingest/orders" in out.output

    async def read() -> Any:
        async with get_client() as client:
            return await client.read_deployment_by_name("ingest/orders")

    deployment = asyncio.run(read())
    assert deployment.work_pool_name == pool
    assert deployment.entrypoint == "tidegate.flows._ingest.ingest"
    assert deployment.parameters["store"] == str(store.resolve())
    assert deployment.schedules[0].schedule.cron == "0 6 * * *"


# --- one run per source at a time ----------------------------------------------------------

LOCKED_RUN = """
import sys
from pathlib import Path
from tidegate.flows import ingest_flow
from tidegate.pipelines import find_pipeline
from tidegate.store import open_store

project, store, name, actor = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
spec = find_pipeline(project, name)
print("ready", flush=True)
with open_store(store).source_lock(spec.name, spec.concurrency.on_busy) as held:
    if not held:
        print("busy: skipped", flush=True)
        sys.exit(0)
    ingest_flow()(pipeline=name, project_dir=str(project), store=store, actor=actor)
print("done", flush=True)
"""


def start_run(project: Path, store: Store, name: str, actor: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LOCKED_RUN, str(project), store_arg(store), name, actor],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"},
    )


def actors(store: Store) -> list[str]:
    return [a for (a,) in query(store, "SELECT actor FROM audit ORDER BY seq")]


@pytest.mark.e2e
def test_two_runs_of_one_source_wait_and_never_interleave(
    project: Path, tmp_path: Path, prefect_api: str
) -> None:
    """Both runs start while the source is busy; they go one after the other.

    On DuckDB only (it waits ~9 s): the PostgreSQL advisory lock is the same contract,
    checked by the skip tests below and tests/flows/test_schedules.py on both backends."""
    store = tmp_path / "s.duckdb"
    with open_store(store).source_lock("orders"):  # busy: both runs must queue behind it
        first = start_run(project, store, "orders", "run-a")
        second = start_run(project, store, "orders", "run-b")
        time.sleep(3)
        assert first.poll() is None and second.poll() is None  # both waiting
        assert not store.exists()
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    seen = actors(store)
    assert set(seen) == {"run-a", "run-b"}
    switches = sum(1 for a, b in itertools.pairwise(seen) if a != b)
    assert switches == 1, seen  # each run's entries are contiguous
    events = {
        e
        for (e,) in query(
            store, "SELECT event FROM audit WHERE actor = ? AND event LIKE 'batch_%'", [seen[-1]]
        )
    }
    assert events == {"batch_skipped"}  # the second run found everything committed


@pytest.mark.e2e
def test_a_run_of_a_busy_source_is_skipped_when_configured(
    project: Path, store: Store, prefect_api: str
) -> None:
    """Across processes: a lock file next to the DuckDB store, a PostgreSQL advisory lock."""
    set_keys(project, "customers", concurrency={"on_busy": "skip"})
    with store.source_lock("customers"):
        run = start_run(project, store, "customers", "run-b")
        out = run.communicate(timeout=60)[0]
    assert run.returncode == 0 and "busy: skipped" in out and "done" not in out
    assert not store.exists()  # nothing read, nothing written


def _lock_is_wired() -> bool:
    import tidegate.cli._run as run_module
    import tidegate.flows._ingest as ingest_module

    return any(
        "source_lock" in Path(m.__file__ or "").read_text() for m in (run_module, ingest_module)
    )


@pytest.mark.e2e
@pytest.mark.skipif(not _lock_is_wired(), reason="source_lock not wired into run/ingest yet")
def test_tidegate_run_of_a_busy_source_skips(project: Path, store: Store, prefect_api: str) -> None:
    """The real `tidegate run`, once the lock is wired into the flow or the command."""
    set_keys(project, "customers", concurrency={"on_busy": "skip"})
    with store.source_lock("customers"):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from tidegate.cli import main; main()",
                "run",
                "customers",
                "-p",
                str(project),
                "--store",
                store_arg(store),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert out.returncode == 0, out.stdout + out.stderr
    assert not store.exists() or not actors(store)
