"""Benchmark: PostgreSQL-source throughput and per-run Prefect orchestration overhead.

    python benchmarks/bench_sources.py --rows 1000000

Part 1, PostgreSQL source. A table of N order-like rows is generated server-side
(`generate_series`) in the local PostgreSQL (127.0.0.1:5432, user postgres, database
test) and dropped at the end. Each contender runs in its own fresh process, one run
each, and reports wall time, rows/s and peak RSS; the table prints ratios against the
baseline:

- copy            `psql -c "COPY (SELECT * FROM t) TO STDOUT"` > /dev/null (the baseline;
                  RSS is psql's)
- connectorx      `connectorx.read_sql(..., return_type="arrow")` alone (the reader
                  SqlSource is built on, for reference)
- sqlsource       `SqlSource(...).read()` alone: every chunk into a RawBatch
- tidegate        SqlSource -> normalize -> validate -> route -> commit_batch into a
                  temporary DuckDB, no Prefect (like `tidegate` in bench_ingest.py)

Part 2, orchestration overhead on a running Prefect server: tidegate's own background
server (`prefect server start`, in a temporary TIDEGATE_HOME, on a free port); a 1-row
CSV pipeline
(`reprocess=True`, so every run does the same read + normalize + validate + route +
commit) is run:

- direct          the stages called directly, no Prefect (median of 5 after a warm-up)
- flow            the `ingest` flow called in-process with PREFECT_API_URL set (median
                  of 5 after a warm-up run)
- scheduled       the pipeline served by tidegate's serve machinery
                  (`tidegate.flows._deploy.serve`, a Prefect Runner) on an 8 s interval
                  (so that runs do not queue); per-run wall time is the flow run's
                  end_time - start_time in the API
                  (median of 5 runs after the first); "sched->done" is end_time -
                  expected_start_time and "late" is start_time - expected_start_time
                  (the runner's poll delay, 1 s here, and the start of the run's
                  process); "API run s" of `flow` is the same end_time - start_time
                  of its in-process runs

If the server does not answer /api/health within --server-timeout seconds, part 2 is
skipped with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _prefect_server import prefect_server

from tidegate.errors import PrefectUnavailableError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1"]

CHILD = r"""
import json, os, resource, statistics, subprocess, sys, time
from pathlib import Path
mode, work, table, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
extra = {}
rows = None
if mode == "copy":
    cmd = json.loads(sys.argv[5]) + ["-c", f"COPY (SELECT * FROM {table}) TO STDOUT"]
    t = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(cmd, stdout=sink, check=True)
    wall = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "peak_rss_mb": rss_mb, "rows": None}))
    sys.exit(0)
if mode == "connectorx":
    import connectorx as cx
    t = time.perf_counter()
    arrow = cx.read_sql(url, f"SELECT * FROM {table}", return_type="arrow")
    rows = arrow.num_rows
elif mode == "sqlsource":
    from tidegate.sources import SqlSource
    t = time.perf_counter()
    rows = sum(b.frame.height for b in SqlSource("orders", url, table=table).read())
elif mode == "tidegate":
    from tidegate.contracts import load_contract
    from tidegate.engine import prepare
    from tidegate.sources import SqlSource
    from tidegate.store import commit_batch
    contract = load_contract(work / "schemas" / "orders.yaml")
    t = time.perf_counter()
    counts = {"rows_in": 0, "loaded": 0, "quarantined": 0, "duplicates": 0}
    for raw in SqlSource("orders", url, table=table).read():
        o = commit_batch(work / "tidegate.duckdb", prepare(raw, contract).routed, contract)
        for k in counts:
            counts[k] += getattr(o, k)
    rows = counts["rows_in"]
    extra["counts"] = counts
elif mode in ("direct", "flow"):
    # part 2: the 1-row pipeline, warm-up then 5 timed runs
    if mode == "direct":
        from tidegate.contracts import load_contract
        from tidegate.engine import prepare
        from tidegate.sources import FileSource
        from tidegate.store import commit_batch
        contract = load_contract(work / "schemas" / "orders.yaml")
        def once():
            (raw,) = list(FileSource("orders", str(work / "tiny.csv")).read())
            raw = raw.collect() if hasattr(raw, "collect") else raw
            return commit_batch(
                work / "direct.duckdb", prepare(raw, contract).routed, contract, reprocess=True
            ).rows_in
    else:
        from tidegate.flows import ingest_flow
        ingest = ingest_flow()
        run_ids = []
        def once():
            state = ingest(pipeline="tiny", project_dir=str(work),
                           store=str(work / "flow.duckdb"), reprocess=True, return_state=True)
            run_ids.append(state.state_details.flow_run_id)
            (o,) = state.result()
            return o["rows_in"]
    t0 = time.perf_counter()
    once()
    extra["warmup_s"] = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t1 = time.perf_counter()
        assert once() == 1
        times.append(time.perf_counter() - t1)
    extra["runs_s"] = times
    if mode == "flow":  # the same runs as the API records them (end_time - start_time)
        import asyncio
        from prefect.client.orchestration import get_client
        async def api_walls():
            async with get_client() as client:
                runs = [await client.read_flow_run(i) for i in run_ids[1:]]
            return [(r.end_time - r.start_time).total_seconds() for r in runs]
        extra["api_s"] = statistics.median(asyncio.run(api_walls()))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": statistics.median(times), "peak_rss_mb": rss_mb, **extra}))
    sys.exit(0)
wall = time.perf_counter() - t
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "peak_rss_mb": rss_mb, "rows": rows, **extra}))
"""

SERVE_CHILD = r"""
import sys
from pathlib import Path
from tidegate.cli._prefect import quiet_prefect
from tidegate.flows._deploy import plan_deployments, serve
quiet_prefect()
project, store, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
plans = plan_deployments(project, store, [name])
for plan in plans:
    plan.parameters["reprocess"] = True  # every run does the same work as the others
serve(plans)
"""

TINY_CSV = (
    "order_id,customer_id,status,amount,order_date,email,quantity\n"
    "1,1,shipped,1.00,2024-01-01,a@b.co,1\n"
)


def psql(sql: str) -> str:
    proc = subprocess.run([*PSQL, "-Atc", sql], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def create_table(table: str, rows: int) -> float:
    t = time.perf_counter()
    psql(f"DROP TABLE IF EXISTS {table}")
    psql(
        f"CREATE TABLE {table} AS SELECT "
        "g::bigint AS order_id, "
        "(g % 50000 + 1)::bigint AS customer_id, "
        "(ARRAY['pending','shipped','cancelled','returned'])[1 + g % 4] AS status, "
        "round((random() * 1000)::numeric, 2)::numeric(12,2) AS amount, "
        "(date '2024-01-01' + (g % 365))::date AS order_date, "
        "'user' || g || '@example.com' AS email, "
        "(1 + g % 9)::int AS quantity "
        f"FROM generate_series(1, {rows}) AS g"
    )
    psql(f"ANALYZE {table}")
    return time.perf_counter() - t


def project(work: Path, pipelines: dict[str, str]) -> None:
    (work / "schemas").mkdir(parents=True, exist_ok=True)
    (work / "pipelines").mkdir(exist_ok=True)
    shutil.copy(ROOT / "schemas" / "orders.yaml", work / "schemas" / "orders.yaml")
    for name, body in pipelines.items():
        (work / "pipelines" / f"{name}.yaml").write_text(body)


def run_child(mode: str, work: Path, table: str, env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(work), table, PG_URL, json.dumps(PSQL)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- part 1 ------------------------------------------------------------------------------


def part_sources(rows: int, only: list[str]) -> None:
    table = f"tidegate_bench_orders_{os.getpid()}"
    print(f"== PostgreSQL source: {rows:,} rows in table {table} ==")
    try:
        made = create_table(table, rows)
        size = psql(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")
        print(f"created in {made:.1f}s (generate_series), {size} on disk")
        results: dict[str, dict] = {}
        for mode in only:
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                project(work, {})
                try:
                    results[mode] = run_child(mode, work, table)
                except RuntimeError as exc:
                    print(exc)
    finally:
        try:
            psql(f"DROP TABLE IF EXISTS {table}")
        except RuntimeError as exc:
            print(f"could not drop {table}: {exc}")
    base = results.get("copy")
    print(
        f"\n{'contender':<12}{'wall s':>9}{'rows/s':>13}{'peak RSS MB':>13}"
        f"{'x copy':>9}{'x RSS':>8}   counts"
    )
    for mode, r in results.items():
        ratio = r["wall_s"] / base["wall_s"] if base else float("nan")
        rss = r["peak_rss_mb"] / base["peak_rss_mb"] if base else float("nan")
        if r.get("rows") not in (None, rows):
            print(f"!! {mode} read {r['rows']} rows, expected {rows}")
        print(
            f"{mode:<12}{r['wall_s']:>9.2f}{rows / r['wall_s']:>13,.0f}"
            f"{r['peak_rss_mb']:>13.0f}{ratio:>9.2f}{rss:>8.2f}   {r.get('counts', '')}"
        )


# -- part 2 ------------------------------------------------------------------------------


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process group this script started (its own session)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


async def _flow_runs(deployment: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.COMPLETED, StateType.FAILED])
                )
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        )


async def _schedule(name: str, runs: int) -> bool:
    """Ask the API to schedule the deployment's next runs (what the scheduler service does,
    without waiting for its next loop)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(f"ingest/{name}")
        except ObjectNotFound:
            return False
        response = await client._client.post(
            f"/deployments/{deployment.id}/schedule", json={"min_runs": runs, "max_runs": runs}
        )
        response.raise_for_status()
        return True


def part_orchestration(server_timeout: float, runs: int) -> None:
    print("\n== Per-run orchestration overhead on a running Prefect server (1-row CSV) ==")
    try:
        with prefect_server(server_timeout, "tidegate-bench-prefect-") as (info, home):
            _orchestration(info.url, home, runs)
    except PrefectUnavailableError as exc:
        print(f"SKIPPED part 2: {exc}")


def _orchestration(api: str, home: Path, runs: int) -> None:
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_API_URL")})
    served: subprocess.Popen | None = None
    try:
        work = home / "project"
        name = "tiny"
        project(
            work,
            {
                name: f"name: {name}\nsource: {{kind: file, path: {work / 'tiny.csv'}, "
                "format: csv}\ncontract: schemas/orders.yaml\nschedule: {interval: 8}\n"
            },
        )
        (work / "tiny.csv").write_text(TINY_CSV)
        results: dict[str, dict] = {}
        for mode in ("direct", "flow"):
            try:
                results[mode] = run_child(mode, work, "-", env=env)
            except RuntimeError as exc:
                print(exc)
        # the scheduled runs, served by tidegate's serve machinery
        serve_log = (home / "serve.log").open("w")
        served = subprocess.Popen(
            [sys.executable, "-c", SERVE_CHILD, str(work), str(work / "served.duckdb"), name],
            env=env,
            stdout=serve_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        t0 = time.perf_counter()
        deadline = time.monotonic() + 60 + 10 * (runs + 1)
        while not asyncio.run(_schedule(name, runs + 1)):
            if served.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the served deployment never appeared:\n" + _tail(home))
            time.sleep(0.5)
        print(f"deployment ingest/{name} registered {time.perf_counter() - t0:.1f}s after serve")
        done: list[Any] = []
        while time.monotonic() < deadline and served.poll() is None:
            done = asyncio.run(_flow_runs(name))
            if len(done) >= runs + 1:
                break
            time.sleep(1)
        failed = [r for r in done if r.state_type.value != "COMPLETED"]
        if failed:
            print(f"!! {len(failed)} scheduled runs failed: {[r.state_name for r in failed]}")
        done = [r for r in done if r.state_type.value == "COMPLETED"]
        if len(done) < 2:
            raise RuntimeError(f"only {len(done)} scheduled runs completed:\n" + _tail(home))
        timed = done[1 : runs + 1]  # the first run is a cold start of the served process
        walls = [(r.end_time - r.start_time).total_seconds() for r in timed]
        lags = [(r.end_time - r.expected_start_time).total_seconds() for r in timed]
        late = [(r.start_time - r.expected_start_time).total_seconds() for r in timed]
        first = done[0]
        results["scheduled"] = {
            "wall_s": statistics.median(walls),
            "api_s": statistics.median(walls),
            "sched_to_done_s": statistics.median(lags),
            "late_s": statistics.median(late),
            "runs_s": walls,
            "first_s": (first.end_time - first.start_time).total_seconds(),
        }
        base = results.get("direct")
        print(
            f"\n{'contender':<11}{'median s':>10}{'overhead s':>12}{'x direct':>10}"
            f"{'API run s':>11}{'late s':>8}{'sched->done s':>15}   per run s"
        )
        for mode, r in results.items():
            over = r["wall_s"] - base["wall_s"] if base else float("nan")
            ratio = r["wall_s"] / base["wall_s"] if base else float("nan")
            lag = f"{r['sched_to_done_s']:.3f}" if "sched_to_done_s" in r else "-"
            late = f"{r['late_s']:.3f}" if "late_s" in r else "-"
            api_s = f"{r['api_s']:.3f}" if "api_s" in r else "-"
            per = ", ".join(f"{x:.3f}" for x in r["runs_s"])
            print(
                f"{mode:<11}{r['wall_s']:>10.3f}{over:>12.3f}{ratio:>10.1f}{api_s:>11}{late:>8}"
                f"{lag:>15}   [{per}]"
            )
        notes = []
        for mode in ("direct", "flow"):
            if mode in results:
                notes.append(f"{mode} warm-up {results[mode]['warmup_s']:.2f}s")
        notes.append(f"first scheduled run {results['scheduled']['first_s']:.2f}s (not timed)")
        print("(" + "; ".join(notes) + ")")
    except RuntimeError as exc:
        print(f"part 2 failed: {exc}")
    finally:
        if served is not None:
            stop(served, signal.SIGINT)


def _tail(home: Path) -> str:
    return "\n".join(
        f"--- {log.name}\n{log.read_text()[-1500:]}"
        for log in (home / "serve.log", home / "tidegate" / "prefect-server" / "server.log")
        if log.exists()
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--only", nargs="*", default=["copy", "connectorx", "sqlsource", "tidegate"]
    )
    parser.add_argument("--runs", type=int, default=5, help="timed scheduled runs (part 2)")
    parser.add_argument("--server-timeout", type=float, default=60.0)
    parser.add_argument("--skip-prefect", action="store_true", help="part 1 only")
    args = parser.parse_args()
    print(f"started {datetime.now().isoformat(timespec='seconds')}")
    if args.only:
        part_sources(args.rows, args.only)
    if not args.skip_prefect:
        part_orchestration(args.server_timeout, args.runs)


if __name__ == "__main__":
    main()
