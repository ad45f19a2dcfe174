"""`tidegate store init` on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import copy_store, make_contract, make_raw, process, query, scalar
from store_backends import drop_pg_store, make_store, store_arg
from tidegate.audit import verify_chain
from tidegate.cli import app
from tidegate.store import PostgresStore, Store, commit_batch

runner = CliRunner()


def test_init_creates_the_tables_and_is_repeatable(store: Store, tmp_path: Path) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["store", "init", "--store", store_arg(store)])
        assert result.exit_code == 0, result.output
        ready = (
            "ready: audit, audit_keys, checkpoints, contract_versions, duplicates, pii_keys, "
            "profiles, quarantine, quarantine_counts, quarantine_rule_columns, quarantine_rules"
        )
        assert ready in " ".join(result.output.split())
    tables = {
        t
        for (t,) in query(
            store,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()",
        )
    }
    assert tables == {
        "audit",
        "audit_keys",
        "checkpoints",
        "contract_versions",
        "duplicates",
        "pii_keys",
        "profiles",
        "quarantine",
        "quarantine_rules",  # the queue's rule and column filters look here
        "quarantine_counts",  # the queue's summary reads here
        "quarantine_rule_columns",  # ... and tells a column filter by its rules here
    }
    if isinstance(store, PostgresStore):
        triggers = {
            t for (t,) in query(store, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        }
        assert {"audit_append_only", "audit_no_truncate", "audit_chain_link"} <= triggers
        assert {"audit_keys_append_only", "audit_keys_no_truncate"} <= triggers


def test_erase_pii_key_without_a_key_or_a_store_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    result = runner.invoke(app, ["store", "erase-pii-key", "--yes", "--store", str(missing)])
    assert result.exit_code == 2 and str(missing) in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not missing.exists()
    made = tmp_path / "tidegate.duckdb"
    assert runner.invoke(app, ["store", "init", "--store", str(made)]).exit_code == 0
    result = runner.invoke(app, ["store", "erase-pii-key", "--yes", "--store", str(made)])
    assert result.exit_code == 0 and "no live PII key" in result.output
    assert query(made, "SELECT count(*) FROM audit WHERE event = 'pii_key_erased'") == [(0,)]


def test_grant_writer_needs_postgres_and_an_existing_role(store: Store) -> None:
    result = runner.invoke(
        app, ["store", "init", "--store", store_arg(store), "--grant-writer", "no_such_role_x"]
    )
    assert result.exit_code == 2
    shown = " ".join(result.output.split())
    if isinstance(store, PostgresStore):
        assert "'no_such_role_x' does not exist" in shown and "CREATE ROLE" in shown
    else:
        assert "needs a PostgreSQL store" in shown


def test_store_commands_have_help() -> None:
    result = runner.invoke(app, ["store", "init", "--help"])
    assert result.exit_code == 0 and "--grant-writer" in result.output


@pytest.mark.postgres
def test_copy_moves_the_demo_history_into_postgres_chain_and_all(
    demo_template: Path, tmp_path: Path, project_root: Path
) -> None:
    """DuckDB demo store -> an empty PostgreSQL store: same rows, same ids, same chain;
    the next run skips every committed file, and new quarantine ids continue."""
    source = copy_store(demo_template, tmp_path / "demo")
    target = make_store("postgres", tmp_path)
    assert isinstance(target, PostgresStore)
    try:
        result = runner.invoke(app, ["store", "copy", "--store", str(source), "--to", target.url])
        assert result.exit_code == 0, result.output
        assert "(the same chain)" in " ".join(result.output.split())
        tables = (
            "audit",
            "quarantine",
            "quarantine_rules",
            "checkpoints",
            "profiles",
            "contract_versions",
            "orders",
            "customers",
        )
        for table in tables:
            sql = (
                f"SELECT * FROM {table} ORDER BY ALL"
                if table != "audit"
                else ("SELECT * FROM audit ORDER BY seq")
            )
            want = query(source, sql.replace("ORDER BY ALL", "ORDER BY 1, 2"))
            got = query(target, sql.replace("ORDER BY ALL", "ORDER BY 1, 2"))
            assert len(got) == len(want) > 0, table
            if table in ("audit", "quarantine", "contract_versions"):
                assert [tuple(map(str, r)) for r in got] == [tuple(map(str, r)) for r in want]
        assert verify_chain(target).head_hash == verify_chain(source).head_hash
        max_id = scalar(target, "SELECT max(id) FROM quarantine")
        rerun = runner.invoke(
            app, ["run", "--all", "--project", str(project_root), "--store", target.url]
        )
        assert rerun.exit_code == 0, rerun.output
        events = query(
            target,
            "SELECT event, count(*) FROM audit WHERE seq > ? GROUP BY 1",
            [verify_chain(source).head_seq],
        )
        committed = scalar(source, "SELECT count(*) FROM checkpoints WHERE status = 'committed'")
        assert dict(events) == {"batch_skipped": committed}
        contract = make_contract()
        bad = {"order_id": "9", "status": "lost", "amount": "1", "order_date": "2024-01-01"}
        commit_batch(target, process(make_raw([bad], sha="c" * 64), contract), contract)
        assert scalar(target, "SELECT max(id) FROM quarantine") == max_id + 1
        again = runner.invoke(app, ["store", "copy", "--store", str(source), "--to", target.url])
        assert again.exit_code == 2 and "already holds" in " ".join(again.output.split())
    finally:
        drop_pg_store(target)


def test_copy_refuses_a_broken_chain_and_wrong_directions(
    demo_template: Path, tmp_path: Path
) -> None:
    import duckdb

    source = copy_store(demo_template, tmp_path / "demo")
    con = duckdb.connect(str(source))
    con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    con.close()
    url = "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dtg_never_made"
    broken = runner.invoke(app, ["store", "copy", "--store", str(source), "--to", url])
    assert broken.exit_code == 1 and "broken at seq 2" in " ".join(broken.output.split())
    wrong = runner.invoke(app, ["store", "copy", "--store", url, "--to", str(source)])
    assert wrong.exit_code == 2 and "from a DuckDB file" in " ".join(wrong.output.split())
