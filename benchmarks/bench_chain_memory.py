"""Benchmark: peak memory of the commands that read a whole audit chain.

    python benchmarks/bench_chain_memory.py --entries 300000
    python benchmarks/bench_chain_memory.py --entries 300000 --before /path/to/old/checkout

Builds (once, in benchmarks/out/) a DuckDB store whose audit table holds ``--entries``
valid chained entries with 600-byte details, most of them review entries
(``record_edited``) and one in 100 a ``batch_committed`` of ``orders``, and a checkpoint
of its head. Then, each in a fresh process, it reads the chain the way ``audit verify``,
``audit verify --against``, ``doctor`` and ``report`` do, and prints how much the
process grew while doing so (peak RSS after minus RSS before, with the imports done and
the store opened once) and its CPU seconds. With ``--before DIR`` the same runs on the
tree in ``DIR/src`` (a checkout of an earlier commit) beside this one.

The alternative side by side is the chain held whole in memory (the "before" tree).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MEASURE = """
import json, resource, sys
from pathlib import Path
from tidegate.store import connect

def rss_mb(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field)) / 1024

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

what, store, checkpoint, project = sys.argv[1:5]
from tidegate.audit._checkpoint import read_checkpoint, verify_store_against
from tidegate.audit._report import load_report
from tidegate.audit._verify import verify_chain
from tidegate.doctor import run_doctor
with connect(store, read_only=True) as con:
    pass
before, started = rss_mb("VmRSS:"), cpu()
if what == "audit verify":
    ok = verify_chain(store).ok
elif what == "audit verify --against":
    ok = verify_store_against(store, read_checkpoint(Path(checkpoint))).ok
elif what == "doctor":
    ok = any(r.check == "audit chain" and r.status == "pass"
             for r in run_doctor(Path(project), store).results)
else:
    ok = load_report(store).chain.ok
print(json.dumps({"ok": ok, "mb": rss_mb("VmHWM:") - before, "cpu": cpu() - started}))
"""

COMMANDS = ("audit verify", "audit verify --against", "doctor", "report")


def build(path: Path, entries: int) -> Path:
    """The store (made once) and its checkpoint file."""
    from tidegate.audit._checkpoint import AuditCheckpoint
    from tidegate.store import (
        GENESIS_HASH,
        canonical_json,
        connect,
        ensure_store_tables,
        entry_hash,
    )

    checkpoint = path.with_suffix(".checkpoint.json")
    if path.exists() and checkpoint.exists():
        return checkpoint
    path.parent.mkdir(parents=True, exist_ok=True)
    prev, rows = GENESIS_HASH, []
    with connect(path) as con:
        ensure_store_tables(con)
        for seq in range(1, entries + 1):
            body = {
                "seq": seq,
                "at": f"2026-12-03T00:00:00.{seq % 1_000_000:06d}Z",
                "actor": "bench",
                "event": "batch_committed" if seq % 100 == 0 else "record_edited",
                "source": "orders",
                "batch_id": f"orders-{seq:012d}",
                "detail": canonical_json({"n": seq, "note": "x" * 600}),
            }
            digest = entry_hash(prev, body)
            rows.append((*body.values(), prev, digest))
            prev = digest
            if len(rows) == 5_000 or seq == entries:
                con.execute(
                    'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, '
                    "prev_hash, hash) SELECT * FROM (VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
                    + ") AS v",
                    [v for row in rows for v in row],
                )
                rows = []
    head = AuditCheckpoint(entries, entries, prev, None, "")
    checkpoint.write_text(head.to_json(), encoding="utf-8")
    return checkpoint


def measure(what: str, store: Path, checkpoint: Path, src: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "TIDEGATE_HOME": str(HERE / "out" / "home")}
    env.pop("TIDEGATE_STORE", None)
    project = HERE / "out" / "chain-memory" / "project"
    project.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, what, str(store), str(checkpoint), str(project)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"{what}: {done.stderr[-2000:]}")
    got: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if not got["ok"]:
        raise SystemExit(f"{what}: the chain did not verify")
    return got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--before", type=Path, help="an earlier checkout to compare with")
    opts = parser.parse_args()
    store = HERE / "out" / "chain-memory" / f"chain-{opts.entries}.duckdb"
    checkpoint = build(store, opts.entries)
    print(f"{opts.entries:,} audit entries (600-byte details): growth of the process")
    print("| read | before MB | before CPU s | MB | CPU s | x before (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for what in COMMANDS:
        new = measure(what, store, checkpoint, ROOT / "src")
        if opts.before is None:
            print(f"| `{what}` | | | {new['mb']:.0f} | {new['cpu']:.2f} | |")
            continue
        old = measure(what, store, checkpoint, opts.before / "src")
        print(
            f"| `{what}` | {old['mb']:.0f} | {old['cpu']:.2f} | {new['mb']:.0f} "
            f"| {new['cpu']:.2f} | {new['mb'] / old['mb']:.2f} |"
        )


if __name__ == "__main__":
    main()
