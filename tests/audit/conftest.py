"""One store built by real flow runs and real review actions, shared by the audit tests.

`tidegate demo` (three sources, skips on its second pass), `tidegate run --all` again
(more skips), `tidegate run customers --reprocess`, then reviewers editing, replaying
and rejecting quarantined orders: a few dozen audit entries of every kind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import copy_store, scalar
from tidegate.cli import app

runner = CliRunner()


def tg(store: Path, project: Path, *args: str, actor: str = "alice") -> str:
    result = runner.invoke(
        app,
        [*args, "--store", str(store), "--project", str(project)],
        env={"TIDEGATE_ACTOR": actor},
    )
    assert result.exit_code == 0, result.output
    return result.output


def _quarantine_id(store: Path, order_id: str) -> int:
    return int(
        scalar(
            store,
            "SELECT id FROM quarantine WHERE source = 'orders' "
            "AND (json_extract_string(raw, '$.order_id') = ? "
            "OR json_extract_string(raw, '$.OrderID') = ?)",
            [order_id, order_id],
        )
    )


@pytest.fixture(scope="session")
def audit_store(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path, demo_template: Path
) -> Path:
    store = copy_store(demo_template, tmp_path_factory.mktemp("audit"), "built.duckdb")
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
    return store


@pytest.fixture
def store_copy(audit_store: Path, tmp_path: Path) -> Path:
    """A private copy to tamper with."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(audit_store, copy)
    return copy
