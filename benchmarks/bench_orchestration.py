"""Benchmark: what the Prefect `ingest` flow costs beside the same stages without Prefect.

    python benchmarks/bench_orchestration.py --repeat 3

tidegate's own background Prefect server (what `tidegate run` starts: `prefect server
start` in a temporary TIDEGATE_HOME, on a free port) runs for the benchmark and is
stopped at the end; if it does not answer within --server-timeout seconds the
benchmark stops with the server log's last lines. Each contender
runs each scenario in a fresh process, --repeat times; a process does its imports
(timed on their own, "import s"), an untimed warm-up run of a 1-file pipeline into
its own store (Prefect client, flow registration, polars and DuckDB start-up), the
scenario's untimed setup, then the timed run. The table shows medians:

- stages   no Prefect: what the flow calls, called directly: the pipeline and the
           contract loaded, the source lock, the source read, the committed keys read
           once and consecutive skips audited in one transaction (or, on a tidegate
           without `tidegate.store._skips`, `lookup_committed` and `record_skip` per
           file), `tidegate.engine.prepare` + `commit_batch` + `monitor_batch`
           per new file, `commit_file_reject` per unreadable one, and the report
           figures read back from the store (what the report artifact shows)
- flow     the real `ingest` flow called in-process with PREFECT_API_URL set, with
           the CLI's logging settings (PREFECT_LOGGING_LEVEL=WARNING, no logs to the
           API)

Scenarios (small files are --small-rows messy order rows each from
benchmarks/generate.py, with distinct order ids; the big one is --rows rows):

- noop-N    N small files committed by an untimed first run; the timed run finds
            every file committed (each batch is an audited skip)
- noop-big  the same with the one big file: the timed run skips it
- files-N   N small files into an empty store
- big       the one big file into an empty store

Columns: wall s and CPU s of the timed run (CPU: time.process_time of the process,
every thread), server CPU s (the Prefect server's user+system time during the timed
run, read from /proc), "x stages" (flow / stages, wall and CPU), and "per batch s",
(flow wall - stages wall) / batches: the orchestration cost of one file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from _prefect_server import prefect_server

from tidegate.errors import PrefectUnavailableError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from pathlib import Path
mode, work, scenario, server_pid = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]

def server_cpu():
    try:
        fields = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")

if mode == "flow":
    from tidegate.flows import ingest_flow
    flow = ingest_flow()
    def run(name, store):
        return flow(pipeline=name, project_dir=str(work), store=str(store))
else:
    import time as _t
    from tidegate.contracts import load_contract
    try:
        from tidegate.pipelines import find_pipeline
    except ImportError:  # a tidegate from before the pipelines package
        from tidegate.flows import find_pipeline
    try:
        from tidegate.flows._locks import source_lock
    except ImportError:  # since the Store protocol the lock is the store's own
        from tidegate.store import open_store

        def source_lock(store, *args):
            return open_store(store).source_lock(*args)
    from tidegate.flows._report_artifacts import source_figures
    from tidegate.engine import prepare
    from tidegate.monitor import monitor_batch
    from tidegate.sources import FileReject, source_from_config
    from tidegate.store import commit_batch, commit_file_reject, lookup_committed, record_skip
    try:
        from tidegate.store._committed import batch_key_of
        from tidegate.store._skips import committed_keys, record_skips
    except ImportError:  # a tidegate from before bulk skips: one lookup and one skip per file
        committed_keys = None
    def run(name, store):
        spec = find_pipeline(work, name)
        contract = load_contract(spec.contract_path)
        outcomes, waiting = [], []
        def flush():
            if waiting:
                outcomes.extend(record_skips(store, contract.source, waiting, contract))
                waiting.clear()
        with source_lock(store, spec.name, spec.concurrency.on_busy):
            source = source_from_config(contract.source, spec.source, work)  # files: no watermark
            known = committed_keys(store, contract.source) if committed_keys else None
            for item in source.read():
                if hasattr(item, "collect"):  # a file read in chunks: here, whole
                    item = item.collect()
                if known is not None:
                    key = batch_key_of(item)
                    if key in known:
                        waiting.append((item.location, key))
                        continue
                    flush()
                if isinstance(item, FileReject):
                    outcomes.append(commit_file_reject(store, item, contract=contract))
                    continue
                key = f"sha256:{item.content_sha256}"
                if known is None and lookup_committed(store, contract.source, key):
                    skipped = record_skip(store, contract.source, item.location, key, contract)
                    if skipped is not None:
                        outcomes.append(skipped)
                        continue
                started = _t.perf_counter()
                routed = prepare(item, contract).routed
                ms = int((_t.perf_counter() - started) * 1000)
                outcome = commit_batch(store, routed, contract, duration_ms=ms)
                monitor_batch(store, spec.monitor, routed, outcome, contract)
                outcomes.append(outcome)
            flush()
            source_figures(store, contract.source)
        return [o.as_dict() for o in outcomes]

import_s = time.perf_counter() - t0
run("warmup", work / f"warmup-{mode}.duckdb")
kind, _, _ = scenario.partition("-")
name = "big" if scenario.endswith("big") else "files_" + scenario.split("-")[1]
store = work / f"{scenario}-{mode}.duckdb"
if kind == "noop":
    first = run(name, store)
    assert first and {o["event"] for o in first} <= {"batch_committed", "batch_held"}, first
c0, s0, w0 = time.process_time(), server_cpu(), time.perf_counter()
outcomes = run(name, store)
wall, cpu, scpu = time.perf_counter() - w0, time.process_time() - c0, server_cpu() - s0
events = sorted({o["event"] for o in outcomes})
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "server_cpu_s": scpu, "import_s": import_s,
                  "batches": len(outcomes), "events": events,
                  "rows": sum(o["rows_in"] for o in outcomes)}))
"""

MODES = ("stages", "flow")
WARMUP_CSV = (
    "order_id,customer_id,status,amount,order_date,email,quantity\n"
    "1,1,shipped,1.00,2024-01-01,a@b.co,1\n"
)


def make_project(work: Path, small_rows: int, max_files: int, big_csv: Path | None) -> None:
    """schemas/orders.yaml, a warm-up pipeline, `files_N` pipelines of N small files
    (the first N of one folder, so a glob per N) and a `big` pipeline."""
    sys.path.insert(0, str(HERE))
    import generate
    import polars as pl

    (work / "schemas").mkdir(parents=True)
    (work / "pipelines").mkdir()
    shutil.copy(ROOT / "schemas" / "orders.yaml", work / "schemas" / "orders.yaml")
    (work / "warmup.csv").write_text(WARMUP_CSV)
    pipelines = {"warmup": str(work / "warmup.csv")}
    for i in range(max_files):
        frame = generate.generate(small_rows, seed=i + 1).with_columns(
            (pl.col("order_id").cast(pl.Int64, strict=False) + i * small_rows).cast(pl.String)
        )
        generate.write_csv(frame, work / "small" / f"{i // 10:04d}" / f"part{i % 10}.csv")
    for n in (1, 10, 100, 1000):
        if n <= max_files:
            pattern = {1: "0000/part0.csv", 10: "0000/*.csv", 100: "000?/*.csv"}.get(n, "*/*.csv")
            pipelines[f"files_{n}"] = str(work / "small" / pattern)
    if big_csv is not None:
        pipelines["big"] = str(big_csv)
    for name, path in pipelines.items():
        (work / "pipelines" / f"{name}.yaml").write_text(
            f"name: {name}\nsource: {{kind: file, path: '{path}', format: csv}}\n"
            "contract: schemas/orders.yaml\n"
        )


def run_child(mode: str, work: Path, scenario: str, env: dict[str, str], pid: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(work), scenario, str(pid)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} {scenario} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per cell")
    parser.add_argument("--small-rows", type=int, default=50)
    parser.add_argument("--files", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="scenarios (default: noop-100 noop-big files-N... big; 0 rows: no big file)",
    )
    parser.add_argument("--server-timeout", type=float, default=180.0)
    parser.add_argument(
        "--tidegate-src",
        type=Path,
        help="a tidegate src/ folder to import in the contenders instead (e.g. a checkout "
        "of an older commit, for before/after figures)",
    )
    args = parser.parse_args()
    print(f"started {datetime.now().isoformat(timespec='seconds')}, {os.cpu_count()} cores")
    big_csv = None
    if args.rows:
        out = HERE / "out"
        out.mkdir(exist_ok=True)
        big_csv = out / f"orders_{args.rows}.csv"
        if not big_csv.exists():
            sys.path.insert(0, str(HERE))
            import generate

            generate.write_csv(generate.generate(args.rows, args.seed), big_csv)
    scenarios = args.only or [
        f"noop-{max(args.files)}",
        *(["noop-big"] if big_csv else []),
        *(f"files-{n}" for n in args.files),
        *(["big"] if big_csv else []),
    ]
    try:
        with prefect_server(args.server_timeout, "tidegate-bench-orch-") as (info, home):
            run_scenarios(args, scenarios, big_csv, info, home)
    except PrefectUnavailableError as exc:
        sys.exit(f"prefect server did not start: {exc}")


def run_scenarios(args, scenarios: list[str], big_csv: Path | None, info, home: Path) -> None:
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": info.url,
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    if args.tidegate_src:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(args.tidegate_src.resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        print(f"contenders import tidegate from {args.tidegate_src}")
    work = home / "project"
    most = max([int(s.split("-")[-1]) for s in scenarios if s[-1].isdigit()] or [1])
    make_project(work, args.small_rows, most, big_csv)
    results: dict[tuple[str, str], list[dict]] = {}
    for scenario in scenarios:
        for _ in range(args.repeat):
            for mode in MODES:
                try:
                    r = run_child(mode, work, scenario, env, info.pid)
                except RuntimeError as exc:
                    print(exc)
                    continue
                results.setdefault((scenario, mode), []).append(r)
                for store in work.glob(f"{scenario}-{mode}.duckdb*"):
                    store.unlink()  # the next repeat starts from an empty store
    print_table(scenarios, results, args)


def print_table(scenarios: list[str], results: dict[tuple[str, str], list[dict]], args) -> None:
    print(
        f"\nmedians of {args.repeat} fresh processes each; small files {args.small_rows} rows, "
        f"big file {args.rows:,} rows\n"
    )
    head = (
        f"{'scenario':<11}{'contender':<9}{'batches':>8}{'wall s':>9}{'CPU s':>8}"
        f"{'server CPU s':>13}{'x stages':>9}{'x CPU':>7}{'per batch s':>12}{'import s':>10}"
        "   events"
    )
    print(head)
    print("-" * len(head))
    for scenario in scenarios:
        base = results.get((scenario, "stages"))
        for mode in MODES:
            runs = results.get((scenario, mode))
            if not runs:
                continue

            def med(key: str, runs: list[dict] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            ratio = cpu_ratio = per = float("nan")
            if base:
                b_wall = statistics.median(r["wall_s"] for r in base)
                b_cpu = statistics.median(r["cpu_s"] for r in base)
                ratio, cpu_ratio = med("wall_s") / b_wall, med("cpu_s") / b_cpu
                per = (med("wall_s") - b_wall) / max(1, runs[0]["batches"])
            print(
                f"{scenario:<11}{mode:<9}{runs[0]['batches']:>8}{med('wall_s'):>9.3f}"
                f"{med('cpu_s'):>8.3f}{med('server_cpu_s'):>13.3f}{ratio:>9.2f}{cpu_ratio:>7.2f}"
                f"{per:>12.3f}{med('import_s'):>10.2f}   {','.join(runs[0]['events'])}"
            )
    # the cost of one more batch: the slope between the smallest and the largest files-N
    sizes = sorted(int(s.split("-")[1]) for s in scenarios if s.startswith("files-"))
    if len(sizes) >= 2 and all((f"files-{n}", m) in results for n in sizes for m in MODES):
        lo, hi = sizes[0], sizes[-1]

        def wall(n: int, mode: str) -> float:
            return statistics.median(r["wall_s"] for r in results[(f"files-{n}", mode)])

        extra = {m: (wall(hi, m) - wall(lo, m)) / (hi - lo) for m in MODES}
        print(
            f"\none more batch (files-{lo} -> files-{hi}): stages {extra['stages']:.3f} s, "
            f"flow {extra['flow']:.3f} s, orchestration {extra['flow'] - extra['stages']:.3f} s"
        )


if __name__ == "__main__":
    main()
