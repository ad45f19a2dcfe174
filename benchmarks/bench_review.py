"""Benchmark: quarantine review at scale.

    python benchmarks/bench_review.py --pending 1000000 --replay 100000
    python benchmarks/bench_review.py --pending 220000 --replay 100000 --bulk-only

Builds (once, cached in benchmarks/out/) a store with N pending quarantine records
made by tidegate itself from generated orders whose emails are all invalid, then
measures, side by side with the raw DuckDB query a user would otherwise write:

- list latency: `list_records` for the first, a middle and the last page of
  pending records, and filtered by rule, vs the same SELECT ... LIMIT/OFFSET in raw
  DuckDB; and the `tidegate quarantine list` command end to end (process start
  included);
- queue page latency of the review web app (when it is installed);
- bulk replay (records that now pass and load, records that still fail) and bulk
  reject: records/s and CPU seconds (``--bulk-only`` for these alone).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def _median_ms(fn: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def build_store(path: Path, pending: int) -> None:
    import generate

    from tidegate.contracts import load_contract
    from tidegate.engine import prepare
    from tidegate.sources import RawBatch
    from tidegate.store import commit_batch

    contract = load_contract(ROOT / "schemas" / "orders.yaml")
    contract = dataclasses.replace(
        contract, policy=dataclasses.replace(contract.policy, max_quarantine_ratio=1.0)
    )
    frame = generate.generate(pending, seed=7).with_columns(
        pl.format("user{}@", pl.int_range(pl.len())).alias("email")  # every email fails
    )
    frame = frame.with_columns(
        pl.int_range(2, pending + 2, dtype=pl.Int64).alias("_tidegate_record")
    )
    raw = RawBatch(source="orders", location="bench.csv", content_sha256="b" * 64, frame=frame)
    t = time.perf_counter()
    outcome = commit_batch(path, prepare(raw, contract).routed, contract, actor="bench")
    print(
        f"built {path.name}: {outcome.quarantined:,} pending records "
        f"in {time.perf_counter() - t:.1f}s"
    )


def bench_list(store: Path, pending: int) -> list[tuple[str, float, float]]:
    from tidegate.store._quarantine import QuarantineFilter, list_records

    rows = []
    for label, flt, sql_where, offset in [
        ("page 1", QuarantineFilter(status="pending"), "status = 'pending'", 0),
        ("middle page", QuarantineFilter(status="pending"), "status = 'pending'", pending // 2),
        ("last page", QuarantineFilter(status="pending"), "status = 'pending'", pending - 50),
        (
            "by rule, page 1",
            QuarantineFilter(rule="email.regex"),
            "list_contains(string_split(rules, ','), 'email.regex')",
            0,
        ),
    ]:
        ours = _median_ms(
            lambda flt=flt, offset=offset: list_records(store, flt, limit=50, offset=offset)
        )

        def raw_sql(where: str = sql_where, offset: int = offset) -> None:
            con = duckdb.connect(str(store))
            con.execute(f"SELECT count(*) FROM quarantine WHERE {where}").fetchall()
            con.execute(
                f"SELECT * FROM quarantine WHERE {where} ORDER BY id LIMIT 50 OFFSET {offset}"
            ).fetchall()
            con.close()

        rows.append((label, ours, _median_ms(raw_sql)))
    return rows


def bench_cli(store: Path, pending: int) -> float:
    exe = Path(sys.executable).with_name("tidegate")
    page = pending // 100

    def run() -> None:
        subprocess.run(
            [
                str(exe),
                "quarantine",
                "list",
                "--status",
                "pending",
                "--page",
                str(page),
                "--format",
                "json",
                "--store",
                str(store),
            ],
            check=True,
            capture_output=True,
        )

    return _median_ms(run, repeat=3)


def bench_web(store: Path, pending: int) -> float | None:
    try:
        from fastapi.testclient import TestClient

        from tidegate.review.web import create_app
    except ImportError as exc:
        print(f"(web app not benchmarked: {exc})")
        return None
    try:
        from tidegate.review.web._auth import User

        app = create_app(
            store=store, project_dir=ROOT, tokens={"t": User(name="bench", role="reviewer")}
        )
    except Exception as exc:  # the app's constructor may differ; say so rather than guess
        print(f"(web app not benchmarked: {exc})")
        return None
    client = TestClient(app)
    signin = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', signin)
    assert token, "no CSRF token on the sign-in page"
    client.post("/signin", data={"token": "t", "csrf_token": token.group(1)})
    page = pending // 100

    def get_page() -> None:
        response = client.get(f"/?status=pending&page={page}")
        assert response.status_code == 200 and "csrf_token" in response.text, response.status_code

    return _median_ms(get_page, repeat=5)


def _timed(fn: Any) -> tuple[Any, float, float]:
    """``fn()``'s result, wall seconds and CPU seconds (this process, every thread)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t, time.process_time() - c


def bench_bulk(store: Path, n: int) -> dict[str, tuple[int, float, float]]:
    """Bulk replay (records that load, records that still fail) and bulk reject on a copy
    of the store: label -> (records, wall seconds, CPU seconds)."""
    from tidegate.contracts import load_contract
    from tidegate.review import reject_records, replay_records
    from tidegate.store._quarantine import QuarantineFilter, matching_ids

    contract = load_contract(ROOT / "schemas" / "orders.yaml")
    ids = matching_ids(store, QuarantineFilter(status="pending"))
    assert len(ids) >= 2 * n + n // 10, f"--pending must be at least {2 * n + n // 10}"
    loose = dataclasses.replace(  # a contract that no longer checks emails: every record loads
        contract,
        columns=tuple(
            dataclasses.replace(c, checks=()) if c.name == "email" else c for c in contract.columns
        ),
    )
    out: dict[str, tuple[int, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "replay.duckdb"
        shutil.copy(store, copy)
        replay_records(copy, ids[:10], {"orders": contract}, actor="bench")  # imports, warm-up
        failing, wall, cpu = _timed(
            lambda: replay_records(copy, ids[10 : n // 10], {"orders": contract}, actor="bench")
        )
        out["replay, still failing"] = (failing.still_failing, wall, cpu)
        part = ids[n // 10 : n // 10 + n]
        loaded, wall, cpu = _timed(
            lambda: replay_records(copy, part, {"orders": loose}, actor="bench")
        )
        # the generated rows carry other mess too (negative quantities, ...): those still fail
        assert loaded.loaded + loaded.still_failing == len(part), loaded
        out["replay, loading"] = (len(part), wall, cpu)
        rest = ids[n // 10 + n : n // 10 + 2 * n]
        rejected, wall, cpu = _timed(lambda: reject_records(copy, rest, "bench", actor="bench"))
        out["reject"] = (rejected, wall, cpu)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--replay", type=int, default=100_000)
    parser.add_argument(
        "--bulk-only", action="store_true", help="only the bulk replay and reject figures"
    )
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    store = out / f"review_{args.pending}.duckdb"
    if not store.exists():
        build_store(store, args.pending)
    if not args.bulk_only:
        bench_reads(store, args.pending)
    print(f"\nbulk review actions on {args.pending:,} pending records")
    print(f"{'action':<24}{'records':>10}{'wall s':>9}{'CPU s':>8}{'rec/s':>9}{'rec/CPU-s':>11}")
    for label, (records, wall, cpu) in bench_bulk(store, args.replay).items():
        print(
            f"{label:<24}{records:>10,}{wall:>9.1f}{cpu:>8.1f}"
            f"{records / wall:>9,.0f}{records / cpu:>11,.0f}"
        )


def bench_reads(store: Path, pending: int) -> None:
    print(f"\nlist latency with {pending:,} pending records (median of 5, ms)")
    print(f"{'query':<18}{'tidegate':>10}{'raw DuckDB':>12}{'ratio':>8}")
    for label, ours, raw in bench_list(store, pending):
        print(f"{label:<18}{ours:>10.1f}{raw:>12.1f}{ours / raw:>8.2f}")
    print(
        f"`tidegate quarantine list --page {pending // 100}` end to end: "
        f"{bench_cli(store, pending):.0f} ms (process start and imports included)"
    )
    web = bench_web(store, pending)
    if web is not None:
        print(f"queue page (web app, page {pending // 100}): {web:.1f} ms")


if __name__ == "__main__":
    main()
