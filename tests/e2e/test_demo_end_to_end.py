"""End to end: the real CLI and the real Prefect flow on sample_data/, then look inside DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import query, scalar
from typer.testing import CliRunner

from tidegate.cli import app

pytestmark = pytest.mark.e2e
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, project_root: Path, prefect_api: str) -> Path:
    store = tmp_path_factory.mktemp("demo") / "tidegate.duckdb"
    result = runner.invoke(app, ["demo", "--project", str(project_root), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "Where to look next" in result.output
    return store


def test_every_row_is_accounted_for(demo_store: Path) -> None:
    """rows_in = loaded + quarantined + duplicates, per batch, from the audit and the tables."""
    entries = query(demo_store, "SELECT event, source, batch_id, detail FROM audit ORDER BY seq")
    committed = [(s, b, json.loads(d)) for e, s, b, d in entries if e in ("batch_committed", "batch_held")]
    assert committed, "no batch was committed"
    for source, batch_id, d in committed:
        assert d["rows_in"] == d["loaded"] + d["quarantined"] + d["duplicates"], d
        in_quarantine = scalar(demo_store, "SELECT count(*) FROM quarantine WHERE batch_id = ?", [batch_id])
        assert in_quarantine == d["quarantined"]
        in_target = scalar(demo_store, f'SELECT count(*) FROM "{source}" WHERE _tidegate_batch_id = ?', [batch_id])
        updated_later = d["loaded"] - in_target  # rows a later batch replaced (on_existing_key: update)
        assert 0 <= updated_later <= d["loaded"]


def test_audit_chain_is_intact(demo_store: Path, project_root: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--store", str(demo_store)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
    n = scalar(demo_store, "SELECT count(*) FROM audit")
    assert f"{n} entries verified" in result.output


def test_unreadable_files_are_file_level_quarantine(demo_store: Path) -> None:
    rows = query(
        demo_store,
        "SELECT location, errors FROM quarantine WHERE rules = '_file.unreadable' ORDER BY location",
    )
    names = [Path(loc).name for loc, _ in rows]
    assert "orders_2024-03_latin1.csv" in names
    assert "orders_2024-04.csv" in names
    assert "inventory_truncated.parquet" in names
    for _, errors in rows:
        assert json.loads(errors)[0]["message"]
    events = scalar(demo_store, "SELECT count(*) FROM audit WHERE event = 'file_rejected'")
    assert events == len(rows)


def test_quarantine_keeps_raw_normalized_and_every_error(demo_store: Path) -> None:
    rows = query(
        demo_store,
        "SELECT record, raw, normalized, errors, rules FROM quarantine "
        "WHERE source = 'orders' AND record IS NOT NULL",
    )
    assert rows
    for record, raw, normalized, errors, rules in rows:
        assert isinstance(record, int) and record >= 2
        assert json.loads(raw)
        parsed = json.loads(errors)
        assert parsed and all({"rule", "column", "value", "message"} <= set(e) for e in parsed)
        assert sorted({e["rule"] for e in parsed}) == rules.split(",")
        if normalized is not None:
            assert set(json.loads(normalized)) >= {"order_id", "amount", "email"}
    all_rules = ",".join(r[4] for r in rows)
    for rule in ("email.regex", "quantity.ge", "amount.type", "_row.ragged"):
        assert rule in all_rules, f"{rule} expected among the sample's quarantine reasons"


def test_rerun_adds_nothing_and_audits_the_skip(demo_store: Path, project_root: Path) -> None:
    def counts() -> tuple[int, int, int]:
        return (
            scalar(demo_store, "SELECT count(*) FROM orders"),
            scalar(demo_store, "SELECT count(*) FROM quarantine"),
            scalar(demo_store, "SELECT count(*) FROM checkpoints"),
        )

    before = counts()
    audit_before = scalar(demo_store, "SELECT max(seq) FROM audit")
    result = runner.invoke(app, ["run", "--all", "--project", str(project_root), "--store", str(demo_store)])
    assert result.exit_code == 0, result.output
    assert counts() == before
    skips = query(
        demo_store, "SELECT detail FROM audit WHERE seq > ? AND event = 'batch_skipped'", [audit_before]
    )
    n_files = scalar(demo_store, "SELECT count(*) FROM checkpoints WHERE status = 'committed'")
    assert len(skips) == n_files
    assert all(json.loads(d)["committed_contract_version"] == 1 for (d,) in skips)


def test_reprocess_replaces_the_batch_atomically(demo_store: Path, project_root: Path) -> None:
    before = scalar(demo_store, "SELECT count(*) FROM customers")
    old_batches = {b for (b,) in query(demo_store, "SELECT DISTINCT _tidegate_batch_id FROM customers")}
    result = runner.invoke(app, ["run", "customers", "--reprocess", "--project", str(project_root),
                                 "--store", str(demo_store)])
    assert result.exit_code == 0, result.output
    assert scalar(demo_store, "SELECT count(*) FROM customers") == before
    new_batches = {b for (b,) in query(demo_store, "SELECT DISTINCT _tidegate_batch_id FROM customers")}
    assert new_batches.isdisjoint(old_batches)
    detail = json.loads(scalar(
        demo_store, "SELECT detail FROM audit WHERE event = 'batch_reprocessed' ORDER BY seq DESC LIMIT 1"
    ))
    assert detail["reprocess"]["replaced_batch_id"] in old_batches
    assert scalar(demo_store, "SELECT count(*) FROM checkpoints WHERE status = 'replaced'") >= 1


def test_hand_edited_audit_row_fails_verify(tmp_path: Path, demo_store: Path) -> None:
    copy = tmp_path / "tampered.duckdb"
    copy.write_bytes(demo_store.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("UPDATE audit SET detail = replace(detail, '}', ',\"note\":\"edited\"}') WHERE seq = 3")
    con.close()
    result = runner.invoke(app, ["audit", "verify", "--store", str(copy)])
    assert result.exit_code == 1
    assert "broken at seq 3" in result.output


def test_console_script_runs_a_source(tmp_path: Path, project_root: Path, prefect_api: str) -> None:
    """The installed `tidegate` command, in a subprocess, against the shared Prefect API."""
    store = tmp_path / "cli.duckdb"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "TIDEGATE_STORE": str(store)}
    exe = Path(sys.executable).with_name("tidegate")
    proc = subprocess.run([str(exe), "run", "inventory", "--project", str(project_root)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "inventory" in proc.stdout
    loaded = scalar(store, "SELECT count(*) FROM inventory")
    quarantined = scalar(store, "SELECT count(*) FROM quarantine WHERE source = 'inventory'")
    assert loaded > 0 and quarantined > 0
