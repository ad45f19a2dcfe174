"""Benchmark: tidegate end to end vs the hand-written polars + DuckDB baseline.

    python benchmarks/bench_ingest.py --rows 2000000

Each contender runs in its own fresh process (one run each, same input file),
and reports wall time, rows/s and peak RSS; the table prints ratios against the
baseline. Contenders:

- polars-read     reading the CSV with polars alone (all strings), the floor
- baseline        benchmarks/baseline_polars_duckdb.py (raw polars + DuckDB)
- tidegate        the stages sources -> normalize -> validate -> route -> store, no Prefect
- tidegate-flow   the real Prefect `ingest` flow (after one warm-up flow run, so the
                  temporary Prefect server's 10-15 s start is not counted; it is
                  reported on its own line)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, csv_path, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
sys.path.insert(0, sys.argv[4])
extra = {}
if mode == "polars-read":
    import polars as pl
    t, cpu0 = time.perf_counter(), time.process_time()
    counts = {"rows_in": pl.read_csv(csv_path, infer_schema=False).height}
elif mode == "baseline":
    import baseline_polars_duckdb as b
    t, cpu0 = time.perf_counter(), time.process_time()
    counts = b.run(csv_path, work / "baseline.duckdb")
elif mode == "tidegate":
    from tidegate.contracts import load_contract
    from tidegate.sources import FileSource
    from tidegate.store import open_store
    from tidegate.engine import ingest_batch  # the file read in chunks, staged, published
    contract = load_contract(work / "schemas" / "orders.yaml")
    # Libraries are imported before the clock starts, as the baseline's polars and
    # DuckDB are: tidegate imports DuckDB, pandera (with pandas, numpy, hypothesis) and
    # its own later stages on first use, so a one-row warm-up file is ingested first,
    # into a store of its own, as a long-running worker would have done already. Its
    # cost (mostly imports) is reported on a line of its own.
    cpu_i = time.process_time()
    (warm,) = list(FileSource("warmup", str(work / "warmup.csv")).read())
    ingest_batch(open_store(work / "warmup-engine.duckdb"), warm, contract)
    extra["warmup_cpu_s"] = round(time.process_time() - cpu_i, 2)
    t, cpu0 = time.perf_counter(), time.process_time()
    (item,) = list(FileSource("orders", str(csv_path)).read())
    outcome = ingest_batch(open_store(work / "tidegate.duckdb"), item, contract)
    counts = {k: getattr(outcome, k) for k in ("rows_in", "loaded", "quarantined", "duplicates")}
else:
    import os
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from tidegate.flows import ingest_flow
    ingest = ingest_flow()
    t0 = time.perf_counter()
    ingest(pipeline="warmup", project_dir=str(work), store=str(work / "warmup.duckdb"))
    extra["prefect_start_s"] = round(time.perf_counter() - t0, 2)
    t, cpu0 = time.perf_counter(), time.process_time()
    (o,) = ingest(pipeline="orders", project_dir=str(work), store=str(work / "flow.duckdb"))
    counts = {k: o[k] for k in ("rows_in", "loaded", "quarantined", "duplicates")}
wall = time.perf_counter() - t
cpu = time.process_time() - cpu0
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss_mb, "counts": counts, **extra}))
"""


def _project(work: Path, csv_path: Path) -> None:
    (work / "schemas").mkdir(parents=True)
    (work / "pipelines").mkdir()
    shutil.copy(ROOT / "schemas" / "orders.yaml", work / "schemas" / "orders.yaml")
    (work / "pipelines" / "orders.yaml").write_text(
        f"name: orders\nsource: {{kind: file, path: {csv_path}, format: csv}}\n"
        "contract: schemas/orders.yaml\n"
    )
    small = work / "warmup.csv"
    small.write_text(
        "order_id,customer_id,status,amount,order_date,email,quantity\n"
        "1,1,shipped,1.00,2024-01-01,a@b.co,1\n"
    )
    (work / "pipelines" / "warmup.yaml").write_text(
        f"name: warmup\nsource: {{kind: file, path: {small}, format: csv}}\n"
        "contract: schemas/orders.yaml\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", nargs="*", default=["polars-read", "baseline", "tidegate", "tidegate-flow"]
    )
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import generate

    csv_path = generate.orders_csv(args.rows, args.seed)
    results: dict[str, dict] = {}
    from contextlib import ExitStack

    with ExitStack() as stack:
        if "tidegate-flow" in args.only and not os.environ.get("PREFECT_API_URL"):
            # a server of its own, waited for as long as it takes (Prefect's temporary
            # server gives up after 20 s on a busy machine)
            from _prefect_server import prefect_server

            info, _ = stack.enter_context(prefect_server(timeout=300, prefix="tg-bench-ingest-"))
            os.environ["PREFECT_API_URL"] = info.url
        run_all(args, csv_path, results)
    report(args, results)


def run_all(args: argparse.Namespace, csv_path: Path, results: dict[str, dict]) -> None:
    for mode in args.only:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            _project(work, csv_path)
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    "flow" if mode == "tidegate-flow" else mode,
                    str(csv_path),
                    str(work),
                    str(HERE),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{mode} failed:\n{proc.stderr[-3000:]}")
                continue
            results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])


def report(args: argparse.Namespace, results: dict[str, dict]) -> None:
    base = results.get("baseline")
    print(
        f"\n{'contender':<15}{'wall s':>9}{'CPU s':>8}{'rows/s':>13}{'peak RSS MB':>13}"
        f"{'x baseline':>12}{'x CPU':>8}{'x RSS':>8}   counts"
    )
    for mode, r in results.items():
        ratio = r["wall_s"] / base["wall_s"] if base else float("nan")
        cpu_ratio = r["cpu_s"] / base["cpu_s"] if base else float("nan")
        rss_ratio = r["peak_rss_mb"] / base["peak_rss_mb"] if base else float("nan")
        print(
            f"{mode:<15}{r['wall_s']:>9.2f}{r['cpu_s']:>8.2f}{args.rows / r['wall_s']:>13,.0f}"
            f"{r['peak_rss_mb']:>13.0f}"
            f"{ratio:>12.2f}{cpu_ratio:>8.2f}{rss_ratio:>8.2f}   {r['counts']}"
        )
    if "tidegate" in results and "warmup_cpu_s" in results["tidegate"]:
        print(
            "(tidegate: a one-row warm-up ingest before the timed run, which imports DuckDB, "
            "pandera and tidegate's later stages as the baseline's imports are done before its "
            f"clock, took {results['tidegate']['warmup_cpu_s']} CPU s)"
        )
    if "tidegate-flow" in results:
        print(
            f"(tidegate-flow: the temporary Prefect server and a warm-up flow took "
            f"{results['tidegate-flow']['prefect_start_s']} s before the timed run)"
        )


if __name__ == "__main__":
    main()
