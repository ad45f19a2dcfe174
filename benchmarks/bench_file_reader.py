"""Benchmark: reading one CSV file whole vs in chunks (CPU seconds and peak RSS).

    python benchmarks/bench_file_reader.py --rows 2000000 [--chunk-size 32MiB]

Generates (once, under benchmarks/out/) an orders CSV with ``generate.py``, then runs
each contender in its own fresh process, one run each, and reports CPU seconds
(``time.process_time``, all threads), wall seconds and peak RSS
(``ru_maxrss``) above the process's RSS after imports:

- whole       the old whole-file path: ``path.read_bytes()``, sha256, one
              ``read_csv_bytes`` (one str of the whole file, one frame)
- collect     ``LocalFileBatch.collect()``: every chunk, then one frame
- chunks      ``for chunk in LocalFileBatch.chunks()``: one chunk at a time (what the
              engine does), the frames dropped as they come
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import hashlib, json, resource, sys, time
from pathlib import Path
import polars as pl
from tidegate.sources._csv import CsvOptions, read_csv_bytes
from tidegate.sources._file_batch import LocalFileBatch
from tidegate.sources._text import FileInfo

mode, path, chunk_size = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpu, wall = time.process_time(), time.perf_counter()
rows = 0
if mode == "whole":
    data = path.read_bytes()
    info = FileInfo("orders", str(path), hashlib.sha256(data).hexdigest())
    batch = read_csv_bytes(data, info, CsvOptions())
    rows = batch.rows_in
elif mode == "collect":
    batch = LocalFileBatch("orders", path, "csv", chunk_size=chunk_size).collect()
    rows = batch.rows_in
else:
    file = LocalFileBatch("orders", path, "csv", chunk_size=chunk_size)
    for chunk in file.chunks():
        rows += chunk.rows_in
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"mode": mode, "rows": rows, "cpu_s": cpu, "wall_s": wall,
                  "base_mb": base / 1024, "peak_mb": peak / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk-size", default="32MiB")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / f"orders_{args.rows}.csv"
    if not csv_path.exists():
        generate = [str(HERE / "generate.py"), "--rows", str(args.rows), "--seed", "1"]
        subprocess.run([sys.executable, *generate, "--out", str(csv_path)], check=True)
    size_mb = csv_path.stat().st_size / 1024**2
    print(f"{csv_path.name}: {size_mb:.0f} MiB, chunk size {args.chunk_size}")
    print(f"{'mode':<8} {'rows':>10} {'CPU s':>7} {'wall s':>7} {'base MiB':>9} {'peak MiB':>9}")
    for mode in ("whole", "collect", "chunks"):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(csv_path), args.chunk_size],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['mode']:<8} {r['rows']:>10,} {r['cpu_s']:>7.2f} {r['wall_s']:>7.2f} "
            f"{r['base_mb']:>9.0f} {r['peak_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
