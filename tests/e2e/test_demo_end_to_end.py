"""End to end: the real CLI and the real Prefect flow on sample_data/, then look inside DuckDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from helpers import copy_store, query, scalar
from store_backends import STORE_BACKENDS, drop_pg_store, make_store, store_arg
from tidegate.cli import app
from tidegate.store import PostgresStore, Store

pytestmark = pytest.mark.e2e
runner = CliRunner()


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def demo_store(
    request: pytest.FixtureRequest,
    demo_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    project_root: Path,
) -> Iterator[Store]:
    """The demo's store on each backend, made by the real CLI and Prefect flow: a copy of
    the session's DuckDB demo store, or `tidegate demo --store postgresql://...`."""
    if request.param == "duckdb":
        yield copy_store(demo_template, tmp_path_factory.mktemp("demo"))
        return
    store = make_store("postgres", tmp_path_factory.mktemp("demo-pg"))
    assert isinstance(store, PostgresStore)
    try:
        result = runner.invoke(app, ["demo", "--project", str(project_root), "--store", store.url])
        assert result.exit_code == 0, result.output
        yield store
    finally:
        drop_pg_store(store)


def test_every_row_is_accounted_for(demo_store: Store) -> None:
    """rows_in = loaded + quarantined + duplicates, per batch, from the audit and the tables."""
    entries = query(demo_store, "SELECT event, source, batch_id, detail FROM audit ORDER BY seq")
    committed = [
        (s, b, json.loads(d)) for e, s, b, d in entries if e in ("batch_committed", "batch_held")
    ]
    assert committed, "no batch was committed"
    for source, batch_id, d in committed:
        assert d["rows_in"] == d["loaded"] + d["quarantined"] + d["duplicates"], d
        in_quarantine = scalar(
            demo_store, "SELECT count(*) FROM quarantine WHERE batch_id = ?", [batch_id]
        )
        assert in_quarantine == d["quarantined"]
        in_target = scalar(
            demo_store, f'SELECT count(*) FROM "{source}" WHERE _tidegate_batch_id = ?', [batch_id]
        )
        updated_later = (
            d["loaded"] - in_target
        )  # rows a later batch replaced (on_existing_key: update)
        assert 0 <= updated_later <= d["loaded"]


def test_audit_chain_is_intact(demo_store: Store, project_root: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--store", store_arg(demo_store)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
    n = scalar(demo_store, "SELECT count(*) FROM audit")
    assert f"{n} entries verified" in result.output


def test_unreadable_files_are_file_level_quarantine(demo_store: Store) -> None:
    rows = query(
        demo_store,
        "SELECT location, errors FROM quarantine "
        "WHERE rules = '_file.unreadable' ORDER BY location",
    )
    names = [Path(loc).name for loc, _ in rows]
    assert "orders_2024-03_latin1.csv" in names
    assert "orders_2024-04.csv" in names
    assert "inventory_truncated.parquet" in names
    for _, errors in rows:
        assert json.loads(errors)[0]["message"]
    events = scalar(demo_store, "SELECT count(*) FROM audit WHERE event = 'file_rejected'")
    assert events == len(rows)


def test_quarantine_keeps_raw_normalized_and_every_error(demo_store: Store) -> None:
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


def test_rerun_adds_nothing_and_audits_the_skip(demo_store: Store, project_root: Path) -> None:
    def counts() -> tuple[int, int, int]:
        return (
            scalar(demo_store, "SELECT count(*) FROM orders"),
            scalar(demo_store, "SELECT count(*) FROM quarantine"),
            scalar(demo_store, "SELECT count(*) FROM checkpoints"),
        )

    before = counts()
    audit_before = scalar(demo_store, "SELECT max(seq) FROM audit")
    result = runner.invoke(
        app, ["run", "--all", "--project", str(project_root), "--store", store_arg(demo_store)]
    )
    assert result.exit_code == 0, result.output
    assert counts() == before
    skips = query(
        demo_store,
        "SELECT detail FROM audit WHERE seq > ? AND event = 'batch_skipped'",
        [audit_before],
    )
    n_files = scalar(demo_store, "SELECT count(*) FROM checkpoints WHERE status = 'committed'")
    assert len(skips) == n_files
    assert all(json.loads(d)["committed_contract_version"] == 1 for (d,) in skips)


def test_reprocess_replaces_the_batch_atomically(demo_store: Store, project_root: Path) -> None:
    before = scalar(demo_store, "SELECT count(*) FROM customers")
    old_batches = {
        b for (b,) in query(demo_store, "SELECT DISTINCT _tidegate_batch_id FROM customers")
    }
    result = runner.invoke(
        app,
        [
            "run",
            "customers",
            "--reprocess",
            "--project",
            str(project_root),
            "--store",
            store_arg(demo_store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert scalar(demo_store, "SELECT count(*) FROM customers") == before
    new_batches = {
        b for (b,) in query(demo_store, "SELECT DISTINCT _tidegate_batch_id FROM customers")
    }
    assert new_batches.isdisjoint(old_batches)
    detail = json.loads(
        scalar(
            demo_store,
            "SELECT detail FROM audit WHERE event = 'batch_reprocessed' ORDER BY seq DESC LIMIT 1",
        )
    )
    assert detail["reprocess"]["replaced_batch_id"] in old_batches
    assert scalar(demo_store, "SELECT count(*) FROM checkpoints WHERE status = 'replaced'") >= 1


def test_hand_edited_audit_row_fails_verify_or_is_refused(
    tmp_path: Path, demo_store: Store
) -> None:
    """DuckDB: the edit lands and verify names its seq. PostgreSQL: the database refuses
    the edit (append-only triggers) and the chain still verifies."""
    if isinstance(demo_store, PostgresStore):
        import psycopg

        with psycopg.connect(demo_store.conninfo(), autocommit=True) as con:
            for statement in (
                "UPDATE audit SET detail = '{}' WHERE seq = 3",
                "DELETE FROM audit WHERE seq = 3",
                "TRUNCATE audit",
            ):
                with pytest.raises(psycopg.Error, match="append-only"):
                    con.execute(statement)
        result = runner.invoke(app, ["audit", "verify", "--store", demo_store.url])
        assert result.exit_code == 0 and "audit chain intact" in result.output, result.output
        return
    copy = tmp_path / "tampered.duckdb"
    copy.write_bytes(demo_store.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute(
        "UPDATE audit SET detail = replace(detail, '}', ',\"note\":\"edited\"}') WHERE seq = 3"
    )
    con.close()
    result = runner.invoke(app, ["audit", "verify", "--store", str(copy)])
    assert result.exit_code == 1
    assert "broken at seq 3" in result.output


def test_console_script_runs_a_source(tmp_path: Path, project_root: Path, prefect_api: str) -> None:
    """The installed `tidegate` command, in a subprocess, against the shared Prefect API."""
    store = tmp_path / "cli.duckdb"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "TIDEGATE_STORE": str(store)}
    exe = Path(sys.executable).with_name("tidegate")
    proc = subprocess.run(
        [str(exe), "run", "inventory", "--project", str(project_root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    # 3: data held back (the truncated sample Parquet file is rejected on purpose)
    assert proc.returncode == 3, proc.stderr + proc.stdout
    assert "inventory" in proc.stdout
    assert "data held back: 1 file rejected (inventory: inventory_truncated.parquet)" in " ".join(
        proc.stdout.split()
    )
    loaded = scalar(store, "SELECT count(*) FROM inventory")
    quarantined = scalar(store, "SELECT count(*) FROM quarantine WHERE source = 'inventory'")
    assert loaded > 0 and quarantined > 0


# The expected totals of sample_data/README.md ("Expected totals").
EXPECTED = {
    # source: (rows_in, loaded, updated, quarantined rows, duplicates, files rejected, target rows)
    "orders": (43, 26, 1, 16, 1, 2, 25),
    "customers": (26, 16, 0, 9, 1, 0, 16),
    "inventory": (24, 20, 0, 4, 0, 1, 20),
}
EXPECTED_RULES = {
    "orders": {
        "email.regex": 4,
        "quantity.ge": 3,
        "amount.type": 1,
        "amount.ge": 1,
        "amount.le": 1,
        "order_id.not_null": 1,
        "customer_id.not_null": 1,
        "status.isin": 1,
        "order_date.type": 1,
        "quantity.type": 1,
        "_row.ragged": 1,
    },
    "customers": {
        "_row.invalid_json": 1,
        "_row.not_object": 1,
        "_row.duplicate_key": 1,
        "email.regex": 1,
        "name.not_null": 1,
        "lifetime_value.ge": 1,
        "vip.type": 1,
        "country.isin": 1,
        "signup_date.type": 1,
    },
    "inventory": {"on_hand.ge": 1, "sku.regex": 1, "warehouse.isin": 1, "sku.not_null": 1},
}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_sample_totals_match_the_sample_readme(demo_store: Store, source: str) -> None:
    rows_in, loaded, updated, quarantined, duplicates, rejected, target = EXPECTED[source]
    details = [
        json.loads(d)
        for (d,) in query(
            demo_store,
            "SELECT detail FROM audit WHERE source = ? AND event = 'batch_committed' ORDER BY seq",
            [source],
        )
    ]
    assert sum(d["rows_in"] for d in details) == rows_in
    assert sum(d["loaded"] for d in details) == loaded
    assert sum(d["updated"] for d in details) == updated
    assert sum(d["quarantined"] for d in details) == quarantined
    assert sum(d["duplicates"] for d in details) == duplicates
    assert (
        scalar(
            demo_store,
            "SELECT count(*) FROM audit WHERE source = ? AND event = 'file_rejected'",
            [source],
        )
        == rejected
    )
    assert scalar(demo_store, f'SELECT count(*) FROM "{source}"') == target
    per_rule = query(
        demo_store,
        "SELECT rules, count(*) FROM quarantine "
        "WHERE source = ? AND record IS NOT NULL GROUP BY rules",
        [source],
    )
    assert dict(per_rule) == EXPECTED_RULES[source]
    normalized: dict[str, int] = {}
    for d in details:
        for rule, n in d["normalized"].items():
            normalized[rule] = normalized.get(rule, 0) + n
    assert normalized, "the audit entry records what each normalization rule changed"
    if source == "orders":  # Feb's header drift, and the mixed date formats of both months
        assert normalized["_header.rename"] == 7
        assert normalized["order_date.date_format"] == 8
