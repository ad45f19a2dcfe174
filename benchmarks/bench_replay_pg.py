"""Benchmark: bulk replay and reject on a PostgreSQL store.

    python benchmarks/bench_replay_pg.py --postgres postgresql://postgres@127.0.0.1:5432/test \
        --store-file benchmarks/out/review_220000.duckdb --replay 20000

The same three actions as ``bench_review.py --bulk-only`` (records that still fail,
records that load, a reject), on a fresh database copied from the DuckDB store that
``bench_review.py`` builds (``CREATE DATABASE`` through the ``--postgres`` URL's server,
dropped afterwards). CPU seconds are this process's own; the server's are printed
beside them, since on PostgreSQL much of the work is the server's: the user + system
time of the backends that exited meanwhile (each store operation has a connection of its
own), read from the postmaster's /proc entry, so the server must run on this machine, and
other databases' work at the same time is counted too.
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Any

from bench_review import HERE, bench_bulk_on

ROOT = HERE.parent


def _postmaster(admin: Any) -> int:
    backend = admin.execute("SELECT pg_backend_pid()").fetchone()[0]
    return int(_stat(backend)[1])  # a backend's parent


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children_cpu(postmaster: int) -> float:
    """User + system seconds of the postmaster's exited children (its backends)."""
    import os

    fields = _stat(postmaster)
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", required=True, help="a server URL (its database is kept)")
    parser.add_argument("--store-file", type=Path, required=True, help="bench_review's store")
    parser.add_argument("--replay", type=int, default=20_000)
    args = parser.parse_args()
    import psycopg

    from tidegate.store import open_store
    from tidegate.store._copy import copy_store

    name = f"tg_bench_replay_{uuid.uuid4().hex[:8]}"
    base, _, _ = args.postgres.rpartition("/")
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            target = open_store(f"{base}/{name}")
            t = time.perf_counter()
            copy_store(args.store_file, target)
            print(f"copied {args.store_file.name} into {name} in {time.perf_counter() - t:.1f}s")
            postmaster = _postmaster(admin)
            results = bench_bulk_on(target, args.replay, lambda: _children_cpu(postmaster))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"\nbulk review actions on PostgreSQL ({args.store_file.name})")
    print(
        f"{'action':<24}{'records':>10}{'wall s':>9}{'CPU s':>8}{'server CPU s':>14}"
        f"{'rec/CPU-s':>11}{'rec/(CPU+server)-s':>20}"
    )
    for label, (records, wall, cpu, server) in results.items():
        print(
            f"{label:<24}{records:>10,}{wall:>9.1f}{cpu:>8.1f}{server:>14.1f}"
            f"{records / cpu:>11,.0f}{records / (cpu + server):>20,.0f}"
        )


if __name__ == "__main__":
    main()
