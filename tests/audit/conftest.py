"""One store built by real flow runs and real review actions, shared by the audit tests.

`tidegate demo` (three sources, skips on its second pass), `tidegate run --all` again
(more skips), `tidegate run customers --reprocess`, then reviewers editing, replaying
and rejecting quarantined orders: a few dozen audit entries of every kind.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import copy_store, scalar
from store_backends import STORE_BACKENDS, pg_database_copy, store_arg
from tidegate.cli import app
from tidegate.store import PostgresStore, Store

runner = CliRunner()


def tg(store: Store, project: Path, *args: str, actor: str = "alice") -> str:
    result = runner.invoke(
        app,
        [*args, "--store", store_arg(store), "--project", str(project)],
        env={"TIDEGATE_ACTOR": actor},
    )
    assert result.exit_code == 0, result.output
    return result.output


def _quarantine_id(store: Store, order_id: str) -> int:
    def field(name: str) -> str:
        if isinstance(store, PostgresStore):
            return f"(raw::jsonb ->> '{name}')"
        return f"json_extract_string(raw, '$.{name}')"

    return int(
        scalar(
            store,
            "SELECT id FROM quarantine WHERE source = 'orders' "
            f"AND ({field('order_id')} = ? OR {field('OrderID')} = ?)",
            [order_id, order_id],
        )
    )


@pytest.fixture(scope="session")
def duckdb_audit_store(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path, demo_template: Path
) -> Path:
    """The audit store as a DuckDB file (for tests of DuckDB's SQL and of file tampering)."""
    store = copy_store(demo_template, tmp_path_factory.mktemp("audit"), "built.duckdb")
    build_audit_history(store, project_root)
    return store


@pytest.fixture(scope="session", params=STORE_BACKENDS)
def audit_store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    project_root: Path,
) -> Iterator[Store]:
    """The same history on each backend (PostgreSQL: a copy of the demo database)."""
    if request.param == "duckdb":
        yield request.getfixturevalue("duckdb_audit_store")
        return
    template = request.getfixturevalue("pg_demo_template")
    with pg_database_copy(template) as store:
        build_audit_history(store, project_root)
        yield store


def build_audit_history(store: Store, project_root: Path) -> None:
    """Re-runs, a reprocess and reviewers' edits, replays and rejects on the demo store."""
    tg(store, project_root, "run", "--all", actor="scheduler")
    tg(store, project_root, "run", "customers", "--reprocess", actor="scheduler")
    tg(store, project_root, "run", "--all", actor="scheduler")
    # order 2008: a bad email, fixed by alice and replayed into the target table
    hank = _quarantine_id(store, "2008")
    tg(store, project_root, "quarantine", "edit", str(hank), "--set", "email=hank@example.com")
    tg(store, project_root, "quarantine", "replay", str(hank))
    # order 1012: amount "twelve", rejected by bob
    twelve = _quarantine_id(store, "1012")
    tg(
        store,
        project_root,
        "quarantine",
        "reject",
        str(twelve),
        "--reason",
        "amount unknowable",
        actor="bob",
    )
    # the order without an id: alice gives it 1099 (not replayed yet)
    no_id = int(scalar(store, "SELECT id FROM quarantine WHERE rules = 'order_id.not_null'"))
    tg(store, project_root, "quarantine", "edit", str(no_id), "--set", "order_id=1099")
    # more reviewer traffic: three rejects in one go, a few edits
    tg(
        store,
        project_root,
        "quarantine",
        "reject",
        "--source",
        "orders",
        "--rule",
        "quantity.ge",
        "--reason",
        "negative",
        actor="bob",
    )
    for order_id, email in (("1009", "bob@example.com"), ("1010", "x@example.com")):
        tg(
            store,
            project_root,
            "quarantine",
            "edit",
            str(_quarantine_id(store, order_id)),
            "--set",
            f"email={email}",
        )


@pytest.fixture
def store_copy(duckdb_audit_store: Path, tmp_path: Path) -> Path:
    """A private copy of the DuckDB audit store to tamper with."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(duckdb_audit_store, copy)
    return copy


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key of the test's own (TIDEGATE_AUDIT_KEY): a rotation never touches
    the session's key."""
    path = tmp_path / "keys" / "audit-signing.key"
    monkeypatch.setenv("TIDEGATE_AUDIT_KEY", str(path))
    monkeypatch.delenv("TIDEGATE_AUDIT_KEY_BLOCK", raising=False)
    return path
