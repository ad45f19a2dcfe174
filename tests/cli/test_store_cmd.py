"""`tidegate store init` on each backend."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from helpers import query
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store._location import PostgresStore, Store

runner = CliRunner()


def test_init_creates_the_tables_and_is_repeatable(store: Store, tmp_path: Path) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["store", "init", "--store", store_arg(store)])
        assert result.exit_code == 0, result.output
        assert "ready: audit, checkpoints, profiles, quarantine" in " ".join(result.output.split())
    tables = {
        t
        for (t,) in query(
            store,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()",
        )
    }
    assert tables == {"audit", "checkpoints", "profiles", "quarantine"}
    if isinstance(store, PostgresStore):
        triggers = {
            t for (t,) in query(store, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        }
        assert {"audit_append_only", "audit_no_truncate", "audit_chain_link"} <= triggers


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
