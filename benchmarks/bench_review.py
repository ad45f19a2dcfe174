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

CAP = 10_000  # the CLI table's count cap ("more than 10,000")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def _median_ms(fn: Any, repeat: int = 5) -> float:
    return _timed(fn, repeat)[0]


def _timed(fn: Any, repeat: int = 5) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn()`` (CPU: this process's own time)."""
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus)


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


# (label, filter, the same filter as SQL for raw DuckDB, offset, keyset after-id)
def _cases(pending: int) -> list[tuple[str, Any, str, int, int | None]]:
    from tidegate.store._quarantine import QuarantineFilter

    pend = QuarantineFilter(status="pending")
    combined = QuarantineFilter(
        status="pending", source="orders", rule="email.regex", column="email", batch=None
    )
    p_sql = "status = 'pending'"
    rule_sql = "list_contains(string_split(rules, ','), 'email.regex')"
    combo_sql = (
        f"{p_sql} AND source = 'orders' AND {rule_sql} AND "
        "list_contains(json_extract_string(errors, '$[*].column'), 'email')"
    )
    return [
        ("page 1", pend, p_sql, 0, None),
        ("middle page (offset)", pend, p_sql, pending // 2, None),
        ("last page (offset)", pend, p_sql, pending - 50, None),
        ("middle page (after)", pend, p_sql, 0, pending // 2),
        ("last page (after)", pend, p_sql, 0, pending - 50),
        ("by rule, page 1", QuarantineFilter(rule="email.regex"), rule_sql, 0, None),
        ("rule+column+source+status", combined, combo_sql, 0, None),
        ("combined, middle (after)", combined, combo_sql, 0, pending // 2),
        ("combined, middle (offset)", combined, combo_sql, pending // 2, None),
    ]


def bench_list(store: Any, pending: int, raw_store: Path | None = None) -> list[tuple[Any, ...]]:
    """(label, tidegate wall, CPU, raw DuckDB wall, CPU) for each case; a keyset page
    does not count the matches again (as the CLI's --after and the web's Next link)."""
    from tidegate.store._quarantine import list_records

    rows = []
    for label, flt, sql_where, offset, after in _cases(pending):
        ours = _timed(  # counted as the CLI's table counts: to 10,000 past the page
            lambda flt=flt, offset=offset, after=after: list_records(
                store, flt, limit=50, offset=offset, after=after, count=after is None, count_cap=CAP
            )
        )

        def raw_sql(
            where: str = sql_where, offset: int = offset, after: int | None = after
        ) -> None:
            con = duckdb.connect(str(raw_store or store), read_only=True)
            if after is None:
                con.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM quarantine WHERE {where} LIMIT {CAP + 1})"
                ).fetchall()
            keyset = f" AND id > {after}" if after is not None else ""
            con.execute(
                f"SELECT * FROM quarantine WHERE {where}{keyset} ORDER BY id "
                f"LIMIT 50 OFFSET {offset}"
            ).fetchall()
            con.close()

        rows.append((label, *ours, *_timed(raw_sql)))
    return rows


def print_list(title: str, rows: list[tuple[Any, ...]]) -> None:
    print(f"\n{title} (median of 5, ms; CPU ms of this process beside wall)")
    print(f"{'query':<28}{'tidegate':>10}{'CPU':>8}{'raw DuckDB':>12}{'CPU':>8}{'ratio':>8}")
    for label, wall, cpu, raw_wall, raw_cpu in rows:
        print(
            f"{label:<28}{wall:>10.1f}{cpu:>8.1f}{raw_wall:>12.1f}{raw_cpu:>8.1f}"
            f"{wall / raw_wall:>8.2f}"
        )


def bench_cli(store: Any, where: list[str], fmt: str = "table") -> tuple[float, float]:
    """`tidegate quarantine list <where> --format FMT` end to end: median wall ms and
    CPU ms of the child process (user + system)."""
    import resource

    exe = Path(sys.executable).with_name("tidegate")
    url = getattr(store, "url", str(store))
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "quarantine",
                "list",
                "--status=pending",
                *where,
                f"--format={fmt}",
                f"--store={url}",
            ],
            check=True,
            capture_output=True,
        )
        walls.append((time.perf_counter() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def bench_web(store: Any, queries: list[str]) -> list[tuple[float, float]] | None:
    """Wall and CPU ms of the queue page at each query string."""
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

    def get_page(query: str) -> None:
        response = client.get(f"/?{query}")
        assert response.status_code == 200 and "csrf_token" in response.text, response.status_code

    return [_timed(lambda q=q: get_page(q)) for q in queries]


def _timed_once(fn: Any) -> tuple[Any, float, float]:
    """``fn()``'s result, wall seconds and CPU seconds (this process, every thread)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - t, time.process_time() - c


def bench_bulk(store: Path, n: int) -> dict[str, tuple[int, float, float]]:
    """Bulk replay (records that load, records that still fail) and bulk reject on a copy
    of the store: label -> (records, wall seconds, CPU seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "replay.duckdb"
        shutil.copy(store, copy)
        return {k: v[:3] for k, v in bench_bulk_on(copy, n).items()}


def bench_bulk_on(
    store: Any, n: int, server_cpu: Any = None
) -> dict[str, tuple[int, float, float, float]]:
    """The bulk actions on ``store`` itself (changed): label -> (records, wall s, CPU s,
    the server's CPU s by ``server_cpu()`` before and after, 0 without it)."""
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
    server = server_cpu or (lambda: 0.0)

    def timed(count: Any, fn: Any) -> tuple[int, float, float, float]:
        """(count(fn's result), wall s, CPU s, server CPU s) of one call of ``fn``."""
        before = server()
        result, wall, cpu = _timed_once(fn)
        return int(count(result)), wall, cpu, server() - before

    out: dict[str, tuple[int, float, float, float]] = {}
    replay_records(store, ids[:10], {"orders": contract}, actor="bench")  # imports, warm-up
    out["replay, still failing"] = timed(
        lambda s: s.still_failing,
        lambda: replay_records(store, ids[10 : n // 10], {"orders": contract}, actor="bench"),
    )
    part = ids[n // 10 : n // 10 + n]

    def replay_loading() -> Any:
        loaded = replay_records(store, part, {"orders": loose}, actor="bench")
        # the generated rows carry other mess too (negative quantities, ...): those still fail
        assert loaded.loaded + loaded.still_failing == len(part), loaded
        return loaded

    out["replay, loading"] = timed(lambda _: len(part), replay_loading)
    rest = ids[n // 10 + n : n // 10 + 2 * n]
    out["reject"] = timed(
        lambda rejected: rejected,
        lambda: reject_records(store, rest, "bench", actor="bench"),
    )
    return out


def _pg_copy(store: Path, url: str) -> Any:
    """The DuckDB store copied (once) into the PostgreSQL store at ``url``."""
    from tidegate.store import open_store
    from tidegate.store._copy import copy_store
    from tidegate.store._quarantine import QuarantineFilter, list_records

    target = open_store(url)
    try:
        if list_records(target, QuarantineFilter(), limit=1)[1]:
            _vacuum(target.url)
            return target
    except Exception:  # no tables yet
        pass
    t = time.perf_counter()
    copy_store(store, target)
    print(f"copied into {target} in {time.perf_counter() - t:.1f}s")
    _vacuum(target.url)
    return target


def _vacuum(url: str) -> None:
    """What autovacuum does to a store soon after a large write: the visibility map
    lets the queue's index-only scans skip the rows themselves."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for table in ("quarantine", "quarantine_rules"):
            con.execute(f"VACUUM ANALYZE {table}")


SUMMARIES = [  # the web page's summary drops the status filter (it shows each status)
    ("whole queue", {}),
    ("source", {"source": "orders"}),
    ("rule", {"rule": "email.regex"}),
    ("source + rule", {"source": "orders", "rule": "email.regex"}),
    ("column", {"column": "email"}),
    ("rule + column", {"rule": "email.regex", "column": "email"}),
]


def _summaries(store: Any) -> list[tuple[str, dict[str, Any]]]:
    """SUMMARIES, and the batch and time-window filters on the store's own batch."""
    from datetime import timedelta

    from tidegate.store._connect import connect

    with connect(store, read_only=True) as con:
        batch, at = con.execute("SELECT batch_id, created_at FROM quarantine LIMIT 1").fetchone()
    window = {"since": at - timedelta(hours=1), "until": at + timedelta(hours=1)}
    return [
        *SUMMARIES,
        ("batch", {"batch": batch}),
        ("time window (holding the batch)", window),
        ("time window (before the batch)", {"until": at - timedelta(hours=1)}),
        (
            "source + rule + column + batch + time window",
            {"source": "orders", "rule": "email.regex", "column": "email", "batch": batch} | window,
        ),
    ]


def _summary_over_records(store: Any, flt: Any) -> Any:
    """The summary as before the counts table: counted over the quarantine itself."""
    from tidegate.store import _quarantine

    has_counts = _quarantine.has_counts
    _quarantine.has_counts = lambda con: False  # type: ignore[assignment]
    try:
        return _quarantine.count_by_rule_and_status(store, flt)
    finally:
        _quarantine.has_counts = has_counts  # type: ignore[assignment]


def report(store: Any, raw: Path, pending: int, title: str) -> None:
    from tidegate.store._quarantine import QuarantineFilter, count_by_rule_and_status

    print_list(
        f"{title}: list latency with {pending:,} pending records", bench_list(store, pending, raw)
    )
    page = pending // 100
    queries = [
        f"status=pending&page={page}",
        f"status=pending&after={page * 50}",
        "status=pending&rule=email.regex&column=email&source=orders",
    ]
    web = bench_web(store, queries)
    if web is not None:
        for q, (wall, cpu) in zip(queries, web, strict=True):
            print(f"web queue page /?{q}: {wall:.1f} ms ({cpu:.1f} CPU ms)")
    for name, picks in _summaries(store):
        flt = QuarantineFilter(**picks)
        assert count_by_rule_and_status(store, flt) == _summary_over_records(store, flt), name
        counted = _timed(lambda flt=flt: count_by_rule_and_status(store, flt))
        scanned = _timed(lambda flt=flt: _summary_over_records(store, flt))
        print(
            f"queue summary by rule and status, {name}: {counted[0]:.1f} ms "
            f"({counted[1]:.1f} CPU ms); counted over the records {scanned[0]:.1f} ms "
            f"({scanned[1]:.1f} CPU ms); ratio {counted[0] / scanned[0]:.3f} wall"
        )
    for where in (["--page", str(page)], ["--after", str(page * 50)]):
        for fmt in ("table", "json"):
            wall, cpu = bench_cli(store, where, fmt)
            print(
                f"`tidegate quarantine list {' '.join(where)} -f {fmt}` end to end: "
                f"{wall:.0f} ms ({cpu:.0f} CPU ms; process start and imports included)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--replay", type=int, default=100_000, help="0: no bulk benchmark")
    parser.add_argument("--store-file", type=Path, help="the generated store (made once)")
    parser.add_argument("--postgres", help="also on this PostgreSQL store URL (copied once)")
    parser.add_argument(
        "--bulk-only", action="store_true", help="only the bulk replay and reject figures"
    )
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    store = args.store_file or out / f"review_{args.pending}.duckdb"
    if not store.exists():
        build_store(store, args.pending)
    from tidegate.store._init import init_store

    init_store(store)  # a store made by an older tidegate gets the rules side table
    if not args.bulk_only:
        report(store, store, args.pending, "DuckDB")
        if args.postgres:
            report(_pg_copy(store, args.postgres), store, args.pending, "PostgreSQL")
    if not args.replay:
        return
    print(f"\nbulk review actions on {args.pending:,} pending records")
    print(f"{'action':<24}{'records':>10}{'wall s':>9}{'CPU s':>8}{'rec/s':>9}{'rec/CPU-s':>11}")
    for label, (records, wall, cpu) in bench_bulk(store, args.replay).items():
        print(
            f"{label:<24}{records:>10,}{wall:>9.1f}{cpu:>8.1f}"
            f"{records / wall:>9,.0f}{records / cpu:>11,.0f}"
        )


if __name__ == "__main__":
    main()
