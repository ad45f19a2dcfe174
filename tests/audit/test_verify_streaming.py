"""`audit verify` reads the chain a window of seqs at a time: a long chain is verified
in bounded memory, and a chain spread over many windows verifies as one (a gap, an edit
in a later window, are still named by their seq).

The entries are valid chained rows written in bulk with the store's own hash
(:func:`tidegate.store.entry_hash`), not appended one by one through the signer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from store_backends import store_arg
from tidegate.audit._verify import verify_signed
from tidegate.cli import app
from tidegate.store import (
    GENESIS_HASH,
    Store,
    canonical_json,
    connect,
    ensure_store_tables,
    entry_hash,
)
from tidegate.store._audit_reads import iter_chain, seq_bounds

ENTRIES = 300_000
GROWTH_BOUND_MB = 300  # holding the entries takes about 840 MB (measured: see below)


def chained_rows(
    n: int, detail_size: int = 40, event: str = "batch_committed"
) -> list[tuple[object, ...]]:
    """``n`` unsigned ``event`` entries, each linked to the one before by its hash."""
    rows: list[tuple[object, ...]] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        body = {
            "seq": seq,
            "at": f"2026-12-03T00:00:00.{seq % 1_000_000:06d}Z",
            "actor": "bench",
            "event": event,
            "source": "orders",
            "batch_id": f"orders-{seq:012d}",
            "detail": canonical_json({"n": seq, "note": "x" * detail_size}),
        }
        digest = entry_hash(prev, body)
        rows.append((*body.values(), prev, digest))
        prev = digest
    return rows


def write_chain(store: Store | Path, rows: list[tuple[object, ...]]) -> None:
    with connect(store) as con:
        ensure_store_tables(con)
        for start in range(0, len(rows), 5_000):
            con.execute(
                'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, '
                "prev_hash, hash) SELECT * FROM (VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows[start : start + 5_000]))
                + ") AS v",
                [v for row in rows[start : start + 5_000] for v in row],
            )


def test_a_chain_over_many_windows_verifies_as_one(store: Store, tmp_path: Path) -> None:
    rows = chained_rows(2_345)
    write_chain(store, rows)
    with connect(store, read_only=True) as con:
        head = seq_bounds(con)[1]
        seqs = [e.seq for e in iter_chain(con, head, page=100)]
        report = verify_signed(iter_chain(con, head, page=100), {})
    assert seqs == list(range(1, 2_346))
    assert report.ok and report.entries == 2_345 and report.head_hash == rows[-1][-1]
    env = {**os.environ, "TIDEGATE_HOME": str(tmp_path / "home")}
    done = CliRunner(env=env).invoke(app, ["audit", "verify", "--store", store_arg(store)])
    assert done.exit_code == 0, done.output
    assert "2345 entries verified" in done.output


def test_a_gap_across_windows_is_named(tmp_path: Path) -> None:
    """On DuckDB (PostgreSQL's triggers refuse a row that does not extend the chain)."""
    path = tmp_path / "tidegate.duckdb"
    write_chain(path, [r for r in chained_rows(2_345) if not 1234 <= int(str(r[0])) <= 1600])
    with connect(path, read_only=True) as con:  # windows 1300..1599 are empty: skipped
        with_gap = verify_signed(iter_chain(con, 2_345, page=100), {})
        with_gap_seqs = [e.seq for e in iter_chain(con, 2_345, page=100)]
    assert (with_gap.first_bad_seq, with_gap.entries) == (1234, 1233)
    assert "found seq 1601 next" in (with_gap.reason or "")
    assert with_gap_seqs == [*range(1, 1234), *range(1601, 2346)]
    env = {**os.environ, "TIDEGATE_HOME": str(tmp_path / "home")}
    done = CliRunner(env=env).invoke(app, ["audit", "verify", "--store", str(path)])
    assert done.exit_code == 1 and "broken at seq 1234" in done.output


MEASURE = """
import json, sys
from tidegate.audit._verify import verify_chain
from tidegate.store import connect

def rss_mb(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field)) / 1024

with connect(sys.argv[1], read_only=True) as con:  # imports and the store opened once
    pass
before = rss_mb("VmRSS:")
report = verify_chain(sys.argv[1])
print(json.dumps({"ok": report.ok, "entries": report.entries,
                  "growth_mb": rss_mb("VmHWM:") - before}))
"""


def test_a_long_chain_is_verified_in_bounded_memory(tmp_path: Path) -> None:
    """Measured on the development machine: holding 300,000 of these entries (the read
    before this change) grew the process by 837 MB; read by windows, by 122 MB (most
    of it DuckDB's buffer cache of the file, which its memory limit caps)."""
    path = tmp_path / "tidegate.duckdb"
    write_chain(path, chained_rows(ENTRIES, detail_size=600))
    env = {**os.environ, "TIDEGATE_HOME": str(tmp_path / "home")}
    env.pop("TIDEGATE_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["ok"] and got["entries"] == ENTRIES
    assert got["growth_mb"] < GROWTH_BOUND_MB, got


MEASURE_READ = """
import json, sys
from pathlib import Path
from tidegate.store import connect

def rss_mb(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field)) / 1024

what, store = sys.argv[1], sys.argv[2]
if what == "against":
    from tidegate.audit._checkpoint import read_checkpoint, verify_store_against
elif what == "doctor":
    from tidegate.doctor import run_doctor
else:
    from tidegate.audit._report import load_report
with connect(store, read_only=True) as con:  # imports and the store opened once
    pass
before = rss_mb("VmRSS:")
if what == "against":
    checked = verify_store_against(store, read_checkpoint(Path(sys.argv[3])))
    out = {"ok": checked.ok, "entries": checked.chain.entries, "problem": checked.problem}
elif what == "doctor":
    results = run_doctor(Path(sys.argv[3]), store).results
    out = {"chain": [r.detail for r in results if r.check == "audit chain"]}
else:
    report = load_report(store)
    out = {"ok": report.chain.ok, "entries": report.chain.entries}
out["growth_mb"] = rss_mb("VmHWM:") - before
print(json.dumps(out))
"""


def _measure(*args: str, home: Path) -> dict[str, object]:
    env = {**os.environ, "TIDEGATE_HOME": str(home)}
    env.pop("TIDEGATE_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_READ, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def test_the_checkpoint_the_doctor_and_the_report_read_a_long_chain_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """`audit verify --against`, the doctor's chain check and `report` read the chain by
    windows too. The chain is review entries (``record_edited``), which the doctor and
    the report verify but keep none of; before, each held the whole chain (about 820 MB
    for these 300,000 entries)."""
    from tidegate.audit._checkpoint import AuditCheckpoint

    rows = chained_rows(ENTRIES, detail_size=600, event="record_edited")
    path = tmp_path / "tidegate.duckdb"
    write_chain(path, rows)
    head = str(rows[-1][-1])
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(AuditCheckpoint(ENTRIES, ENTRIES, head, None, "").to_json())
    (tmp_path / "project").mkdir()
    home = tmp_path / "home"

    against = _measure("against", str(path), str(checkpoint), home=home)
    assert against["ok"] and against["entries"] == ENTRIES, against
    assert float(str(against["growth_mb"])) < GROWTH_BOUND_MB, against

    doctor = _measure("doctor", str(path), str(tmp_path / "project"), home=home)
    assert doctor["chain"] == [f"intact: {ENTRIES} entries verified, head {head[:16]}…"], doctor
    assert float(str(doctor["growth_mb"])) < GROWTH_BOUND_MB, doctor

    report = _measure("report", str(path), home=home)
    assert report["ok"] and report["entries"] == ENTRIES, report
    assert float(str(report["growth_mb"])) < GROWTH_BOUND_MB, report


def test_a_stream_against_a_checkpoint_names_a_rewrite_and_a_cut_tail(tmp_path: Path) -> None:
    """The checkpoint's facts (origin, the hash at its seq) are noted as the chain
    streams past, over many windows."""
    from tidegate.audit._checkpoint import AuditCheckpoint, verify_against
    from tidegate.store._audit_reads import iter_chain

    rows = chained_rows(2_345)
    path = tmp_path / "tidegate.duckdb"
    write_chain(path, rows)
    at_1000 = AuditCheckpoint(1_000, 1_000, str(rows[999][-1]), None, "")
    forged = AuditCheckpoint(1_000, 1_000, "0" * 64, None, "")
    past_head = AuditCheckpoint(3_000, 3_000, "0" * 64, None, "")
    with connect(path, read_only=True) as con:
        good = verify_against(iter_chain(con, 2_345, page=100), at_1000)
        rewritten = verify_against(iter_chain(con, 2_345, page=100), forged)
        cut = verify_against(iter_chain(con, 2_345, page=100), past_head)
    assert good.ok and good.chain.entries == 2_345
    assert not rewritten.ok and "rewritten at or before seq 1000" in (rewritten.problem or "")
    assert not cut.ok and "the tail was truncated" in (cut.problem or "")
