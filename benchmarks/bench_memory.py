"""Benchmark: peak memory and time of `tidegate run` by input size, beside polars streaming.

    python benchmarks/bench_memory.py --rows 1000000 10000000 --files 100 --file-rows 100000

Inputs are generated streaming (``generate.py`` one million rows at a time, appended to
one CSV) into a scratch folder and deleted at the end. Each contender runs in its own
fresh process, on tidegate's own background Prefect server (started once, first):

- tidegate   `tidegate run orders --store ...` end to end (CLI, Prefect flow, DuckDB)
- polars     ``pl.scan_csv(path, infer_schema=False).sink_parquet(...)``: streaming,
             no checks, the floor a streaming reader can reach

It prints wall time, CPU seconds, peak RSS, peak RSS as a multiple of the input's
size, CPU microseconds per row, tidegate's ratios to polars, and each input's CPU per
row relative to the first input's (the goal: flat memory, under 2 GB at 100M rows,
and per-row cost at 100M within 20% of that at 1M). tidegate reads each file in chunks
(the default ``chunk_size``, 32 MiB) inside one batch, so its peak memory does not
grow with the file; disk is what a 100M-row run needs (the CSV, the staged rows and the
target, about 4 times the CSV), checked before each input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PIECE_ROWS = 1_000_000
DISK_PER_INPUT_BYTE = 4  # the CSV, its staged rows, the target table, DuckDB's spill

CHILD = r"""
import json, resource, subprocess, sys, time
mode, work, target = sys.argv[1], sys.argv[2], sys.argv[3]
t, cpu0 = time.perf_counter(), time.process_time()
if mode == "polars":
    import polars as pl
    pl.scan_csv(target, infer_schema=False).sink_parquet(f"{work}/out.parquet")
    rc = 0
else:
    done = subprocess.run(
        [sys.argv[4], "run", "orders", "--store", f"{work}/tidegate.duckdb"],
        cwd=work, capture_output=True, text=True,
    )
    rc = done.returncode
    if rc not in (0, 3):
        print(done.stdout[-2000:] + done.stderr[-3000:], file=sys.stderr)
wall = time.perf_counter() - t
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (time.process_time() - cpu0) + kids.ru_utime + kids.ru_stime
rss = max(me.ru_maxrss, kids.ru_maxrss) / 1024
print(json.dumps({"rc": rc, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss}))
"""


def write_rows(path: Path, rows: int, seed: int = 1) -> None:
    """``rows`` generated order rows in one CSV, a million at a time (ids kept unique)."""
    import generate
    import polars as pl

    with path.open("wb") as out:
        for start in range(0, rows, PIECE_ROWS):
            n = min(PIECE_ROWS, rows - start)
            piece = generate.generate(n, seed + start // PIECE_ROWS).with_columns(
                (pl.col("order_id").cast(pl.Int64) + start).cast(pl.String)
            )
            piece.write_csv(out, include_header=start == 0)


def free_disk_mb(folder: Path) -> float:
    return shutil.disk_usage(folder).free / 1e6


ROW_BYTES = 68  # about, for generate.py's rows as CSV


def run(mode: str, work: Path, target: Path, tidegate_bin: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(work), str(target), tidegate_bin],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] not in (0, 3):
        raise SystemExit(f"{mode} exited {result['rc']}:\n{done.stderr[-3000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--files", type=int, default=100, help="files in the many-files input")
    parser.add_argument("--file-rows", type=int, default=100_000)
    args = parser.parse_args()
    from _prefect_server import prefect_server
    from bench_ingest import _project as project

    tidegate_bin = str(Path(sys.executable).with_name("tidegate"))
    rows_table = []
    with prefect_server(timeout=300, prefix="tg-bench-memory-") as (info, scratch):
        os.environ["PREFECT_API_URL"] = info.url
        inputs: list[tuple[str, int, str]] = [(f"1 file, {n:,} rows", n, "one") for n in args.rows]
        if args.files:
            inputs.append(
                (
                    f"{args.files} files x {args.file_rows:,} rows",
                    args.files * args.file_rows,
                    "many",
                )
            )
        for label, rows, kind in inputs:
            need = rows * ROW_BYTES * DISK_PER_INPUT_BYTE / 1e6
            if need > 0.9 * free_disk_mb(Path(scratch)):
                rows_table.append((label, rows, rows * ROW_BYTES / 1e6, "tidegate", None, need))
                continue
            data = Path(tempfile.mkdtemp(prefix="data-", dir=scratch))
            started = time.perf_counter()
            if kind == "one":
                write_rows(data / "orders.csv", rows)
                pattern, target = str(data / "orders.csv"), data / "orders.csv"
            else:
                for i in range(args.files):
                    write_rows(data / f"orders_{i:04d}.csv", args.file_rows, seed=i + 1)
                pattern, target = str(data / "orders_*.csv"), data / "orders_*.csv"
            size_mb = sum(f.stat().st_size for f in data.iterdir()) / 1e6
            print(
                f"{label}: {size_mb:,.0f} MB generated in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            for mode in ("polars", "tidegate"):
                work = Path(tempfile.mkdtemp(prefix=f"{mode}-", dir=scratch))
                project(work, Path(pattern))  # bench_ingest's project, on this input
                result = run(mode, work, target, tidegate_bin)
                print(f"  {mode}: {json.dumps(result)}", flush=True)
                rows_table.append((label, rows, size_mb, mode, result, 0))
                shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)
    report(rows_table)


def report(rows_table: list[tuple[str, int, float, str, dict[str, float] | None, float]]) -> None:
    print(
        f"\n{'input':<28}{'MB':>8} {'contender':<10}{'wall s':>9}{'CPU s':>9}"
        f"{'peak RSS MB':>13}{'RSS/input':>11}{'us/row':>8}{'x polars CPU':>14}"
        f"{'x polars RSS':>14}{'per row vs first':>18}"
    )
    polars: dict[str, dict[str, float]] = {}
    first_us: float | None = None
    for label, rows, size_mb, mode, r, need in rows_table:
        if r is None:
            print(
                f"{label:<28}{size_mb:>8,.0f} {mode:<10}   not run: needs about "
                f"{need / 1000:,.0f} GB of free disk"
            )
            continue
        us = r["cpu_s"] / rows * 1e6
        extra = ""
        if mode == "polars":
            polars[label] = r
        else:
            base = polars.get(label)
            first_us = us if first_us is None else first_us
            if base:
                extra = (
                    f"{r['cpu_s'] / base['cpu_s']:>14.1f}"
                    f"{r['peak_rss_mb'] / base['peak_rss_mb']:>14.2f}"
                )
            extra += f"{us / first_us:>18.2f}"
        print(
            f"{label:<28}{size_mb:>8,.0f} {mode:<10}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}"
            f"{r['peak_rss_mb']:>13,.0f}{r['peak_rss_mb'] / size_mb:>11.1f}"
            f"{us:>8.2f}{extra}"
        )


if __name__ == "__main__":
    main()
