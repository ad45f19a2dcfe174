"""Benchmark: the store step on DuckDB and on PostgreSQL, against hand-written loads.

    python benchmarks/bench_store.py --rows 1000000

One messy orders CSV (benchmarks/generate.py) is read, normalized, validated and
routed once per contender process (not timed); then only the write is timed:

- duckdb-raw       the routed rows `INSERT ... SELECT` into a DuckDB table and the
                   failed rows into another, in one transaction (what a user writes
                   by hand with DuckDB)
- tidegate-duckdb  `commit_batch` into a DuckDB store: target rows with lineage,
                   quarantine rows, checkpoint, audit entry, one transaction
- pg-copy          the same two tables loaded with psycopg `COPY ... FROM STDIN` (CSV
                   written by polars) in one transaction (the hand-written PostgreSQL load)
- tidegate-pg      `commit_batch` into a PostgreSQL store (127.0.0.1:5432, database
                   test, a schema of its own, dropped at the end)

Then the latency of one small write transaction, the kind reviewers and skips make
(`record_source_failure`: open, lock, one audit entry, commit), median of 200, on
each backend. Every contender runs in a fresh process and reports wall time, rows/s
and peak RSS; ratios are against the hand-written load on the same engine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG = "postgresql://postgres@127.0.0.1:5432/test"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, csv_path, work, pg_url = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
import polars as pl
from tidegate.contracts import load_contract
from tidegate.engine import prepare
from tidegate.sources import FileSource
from tidegate.store import commit_batch
from tidegate.store._location import open_store
contract = load_contract(Path(sys.argv[5]) / "schemas" / "orders.yaml")
(raw,) = list(FileSource("orders", str(csv_path)).read())
raw = raw.collect() if hasattr(raw, "collect") else raw  # the file read whole
routed = prepare(raw, contract).routed
load, bad = routed.load, routed.quarantine
t = time.perf_counter()
if mode == "duckdb-raw":
    import duckdb
    con = duckdb.connect(str(work / "raw.duckdb"))
    con.execute("BEGIN")
    con.register("l", load.to_arrow()); con.register("q", bad.to_arrow())
    con.execute("CREATE TABLE orders AS SELECT * FROM l")
    con.execute("CREATE TABLE quarantine AS SELECT * FROM q")
    con.execute("COMMIT"); con.close()
elif mode == "pg-copy":
    import psycopg
    def ddl(frame):
        types = {pl.Int64: "BIGINT", pl.Float64: "DOUBLE PRECISION", pl.Boolean: "BOOLEAN",
                 pl.Date: "DATE"}
        return ", ".join(
            f'"{c}" ' + (f"NUMERIC({t.precision},{t.scale})" if isinstance(t, pl.Decimal)
                         else types.get(t, "TIMESTAMP" if isinstance(t, pl.Datetime) else "TEXT"))
            for c, t in frame.schema.items())
    with psycopg.connect(pg_url) as con:
        for name, frame in (("orders", load), ("quarantine", bad)):
            con.execute(f"CREATE TABLE {name} ({ddl(frame)})")
            body = frame.write_csv(
                include_header=False, null_value="\\N", quote_style="non_numeric"
            )
            with con.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv, NULL '\\N')") as cp:
                cp.write(body.encode())
else:
    store = open_store(pg_url) if mode == "tidegate-pg" else work / "tidegate.duckdb"
    outcome = commit_batch(store, routed, contract)
    assert outcome.loaded == routed.loaded and outcome.quarantined == routed.quarantined
wall = time.perf_counter() - t
small = []
if mode.startswith("tidegate"):
    from tidegate.store import record_source_failure
    for i in range(201):
        s = time.perf_counter()
        record_source_failure(store, "bench", f"probe {i}", actor="bench")
        small.append(time.perf_counter() - s)
    small = small[1:]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss": rss, "rows": routed.rows_in, "loaded": routed.loaded,
                  "quarantined": routed.quarantined, "small": small}))
"""


def _pg_schema_url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(sql)


def run_child(mode: str, csv_path: Path, work: Path) -> dict:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if mode == "pg-copy":
        _pg_admin(f"CREATE SCHEMA {schema}")
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                mode,
                str(csv_path),
                str(work),
                _pg_schema_url(schema),
                str(ROOT),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        _pg_admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import generate

    with tempfile.TemporaryDirectory(prefix="tg-bench-store-") as tmp:
        work = Path(tmp)
        csv_path = work / "orders.csv"
        t = time.perf_counter()
        generate.write_csv(generate.generate(args.rows, args.seed), csv_path)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f}s", flush=True)
        results = {}
        for mode in ("duckdb-raw", "tidegate-duckdb", "pg-copy", "tidegate-pg"):
            results[mode] = run_child(mode, csv_path, work)
            print(f"  {mode}: {results[mode]['wall']:.2f}s", flush=True)

    base = {"duckdb-raw": "duckdb-raw", "tidegate-duckdb": "duckdb-raw"}
    print(f"\nstore write of one routed batch ({args.rows:,} rows in, one transaction)")
    print(
        f"{'contender':<17}{'wall s':>8}{'rows/s':>13}{'peak RSS MB':>13}{'x same-engine raw':>19}"
    )
    for mode, r in results.items():
        ref = results[base.get(mode, "pg-copy")]
        print(
            f"{mode:<17}{r['wall']:>8.2f}{r['rows'] / r['wall']:>13,.0f}{r['rss']:>13.0f}"
            f"{r['wall'] / ref['wall']:>19.2f}"
        )
    r = results["tidegate-pg"]
    print(
        f"counts: rows_in {r['rows']:,}, loaded {r['loaded']:,}, quarantined {r['quarantined']:,}"
    )
    pg_vs_duck = results["tidegate-pg"]["wall"] / results["tidegate-duckdb"]["wall"]
    print(f"tidegate-pg / tidegate-duckdb: {pg_vs_duck:.2f}x")
    print("\none small write transaction (an audit entry), median of 200 after a warm-up")
    for mode in ("tidegate-duckdb", "tidegate-pg"):
        small = results[mode]["small"]
        print(
            f"  {mode:<17}{statistics.median(small) * 1000:>7.2f} ms"
            f"  (p95 {sorted(small)[int(len(small) * 0.95)] * 1000:.2f} ms)"
        )


if __name__ == "__main__":
    main()
