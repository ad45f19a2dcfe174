"""`tidegate audit ...` on a small hand-made store: help, refusals, and no Prefect import.

The same commands on a store built by real flow runs are in tests/audit/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidegate.audit import parse_key, read_only_statement
from tidegate.cli import app
from tidegate.errors import TidegateError
from tidegate.store import append_audit, ensure_store_tables, transaction

runner = CliRunner()
COMMANDS = ("verify", "checkpoint", "list", "show", "sql", "trace")


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    store = tmp_path / "small.duckdb"
    with transaction(store) as con:
        ensure_store_tables(con)
        for n in range(1, 6):
            append_audit(
                con, "batch_committed", {"rows_in": n, "loaded": n, "quarantined": 0,
                "duplicates": 0, "location": f"f{n}.csv"},
                source="orders", batch_id=f"orders-b{n}", actor="tester",
            )  # fmt: skip
    return store


def test_every_audit_command_has_help() -> None:
    listing = runner.invoke(app, ["audit", "--help"])
    assert listing.exit_code == 0
    for command in COMMANDS:
        assert command in listing.output
        result = runner.invoke(app, ["audit", command, "--help"])
        assert result.exit_code == 0 and "--store" in result.output, command


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO audit VALUES (9, 'x', 'x', 'x', NULL, NULL, '{}', 'x', 'x')",
        "UPDATE audit SET actor = 'mallory'",
        "DELETE FROM audit",
        "DROP TABLE audit",
        "ATTACH 'x.duckdb'",
        "COPY audit TO 'x.csv'",
        "PRAGMA version",
        "CALL pragma_version()",
        "CREATE TABLE t AS SELECT 1",
        "SET threads = 1",
        "INSTALL httpfs",
        "SELECT 1; SELECT 2",
        "SELECT 1; DROP TABLE audit",
        "",
        ";",
    ],
)
def test_sql_refuses_before_opening_the_store(statement: str) -> None:
    with pytest.raises(TidegateError):
        read_only_statement(statement)


@pytest.mark.parametrize(
    "statement", ["SELECT 1", "FROM audit", "WITH a AS (SELECT 1) SELECT * FROM a", "SHOW TABLES"]
)
def test_sql_accepts_reads(statement: str) -> None:
    assert read_only_statement(statement)


def test_sql_refusal_names_the_statement_and_leaves_the_store(small_store: Path) -> None:
    for statement, word in (
        ("DELETE FROM audit", "DELETE"),
        ("SELECT 1; SELECT 2", "2 statements"),
    ):
        result = runner.invoke(app, ["audit", "sql", statement, "--store", str(small_store)])
        assert result.exit_code == 2 and word in result.output
    ok = runner.invoke(
        app,
        [
            "audit",
            "sql",
            "SELECT count(*) AS n FROM audit",
            "-f",
            "json",
            "--store",
            str(small_store),
        ],
    )
    assert ok.exit_code == 0 and json.loads(ok.output) == {"n": 5}


def test_parse_key_single_composite_and_mistakes() -> None:
    assert parse_key("1001", ("order_id",), "orders") == {"order_id": "1001"}
    assert parse_key("order_id=1001", ("order_id",), "orders") == {"order_id": "1001"}
    assert parse_key("a=1, b=x", ("a", "b"), "s") == {"a": "1", "b": "x"}
    for bad, pk in (
        ("1", ("a", "b")),
        ("a=1", ("a", "b")),
        ("a=1,c=2", ("a", "b")),
        ("x=1", ("a",)),
    ):
        with pytest.raises(TidegateError, match="a=VALUE"):
            parse_key(bad, pk, "s")


def test_checkpoint_refuses_a_broken_chain(small_store: Path, tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(small_store))
    con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    con.close()
    out = tmp_path / "cp.json"
    result = runner.invoke(
        app, ["audit", "checkpoint", "-o", str(out), "--store", str(small_store)]
    )
    assert result.exit_code == 2 and "seq 2" in result.output and not out.exists()


def test_audit_commands_do_not_import_prefect(
    small_store: Path, tmp_path: Path, project_root: Path
) -> None:
    cp = tmp_path / "cp.note"
    calls = [
        ["key", "show"],
        ["verify"],
        ["checkpoint", "-o", str(cp)],
        ["verify", "--against", str(cp)],
        ["list", "-s", "orders", "--since", "1d", "-f", "csv"],
        ["show", "2"],
        ["show", "orders-b3", "-f", "json"],
        ["sql", "SELECT * FROM audit"],
        ["trace", "orders", "1001", "--project", str(project_root)],
    ]
    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        f"for call in json.loads({json.dumps(json.dumps(calls))}):\n"
        f"    r = CliRunner().invoke(app, ['audit', *call, '--store', {str(small_store)!r}])\n"
        "    assert r.exit_code in (0, 1), (call, r.output)\n"
        "heavy = [m for m in ('prefect', 'great_expectations', 'pandera') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
    from tidegate.audit import read_checkpoint

    assert read_checkpoint(cp).head_seq == 5  # a signed note, read back
