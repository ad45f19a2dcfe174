"""`tidegate quarantine recheck`: a candidate contract's verdict on the pending records,
on both stores through the real CLI. Nothing is written; and once the candidate is made
current, `quarantine replay` loads exactly the records recheck named, record by record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from helpers import query, scalar, write_csv_source
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store

runner = CliRunner()
STATUSES = ["pending", "shipped"]
# (id, status, amount): clean rows, rows failing status only, amount only, both; a bad
# status on a key that loads clean (replay updates it), and one key twice with bad
# statuses and different amounts (a replay keeps the second pending: same key twice)
ROWS: list[tuple[int, str, str]] = [
    *[(i, "shipped", f"{i}.50") for i in range(1, 6)],
    *[(10 + i, "lost", "3.00") for i in range(4)],
    *[(20 + i, "pending", "-1") for i in range(3)],
    *[(30 + i, "lost", "-2") for i in range(2)],
    (3, "unknown", "7.00"),
    (40, "lost", "1.00"),
    (40, "lost", "2.00"),
]


def _contract(version: int, statuses: list[str] | None) -> dict[str, Any]:
    status: dict[str, Any] = {"type": "string"}
    if statuses:
        status["checks"] = [{"isin": statuses}]
    return {
        "source": "orders",
        "version": version,
        "primary_key": ["id"],
        "columns": {
            "id": {"type": "int64", "nullable": False},
            "status": status,
            "amount": {"type": "decimal(12,2)", "checks": [{"ge": 0}]},
        },
        "policy": {"max_quarantine_ratio": 1.0, "on_existing_key": "update"},
    }


def _v1_rules(row: tuple[int, str, str]) -> set[str]:
    _, status, amount = row
    failed = {"status.isin": status not in STATUSES, "amount.ge": float(amount) < 0}
    return {rule for rule, fails in failed.items() if fails}


def _snapshot(store: Store) -> tuple[Any, ...]:
    return (
        scalar(store, "SELECT count(*) FROM orders"),
        query(store, "SELECT id, status, version FROM quarantine ORDER BY id"),
        scalar(store, "SELECT max(seq) FROM audit"),
        scalar(store, "SELECT count(*) FROM audit"),
    )


def tg(project: Path, store: Store, *args: str, code: int = 0) -> str:
    at = ["--project", str(project), "--store", store_arg(store)]
    result = runner.invoke(app, [*args, *at], env={"TIDEGATE_ACTOR": "alice"})
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "data").mkdir(parents=True)
    lines = ["id,status,amount", *(f"{i},{s},{a}" for i, s, a in ROWS)]
    (root / "data" / "orders.csv").write_text("\n".join(lines) + "\n")
    (root / "data" / "zz.csv").write_bytes(b"\x00\x00binary\x00")  # a file-level entry
    write_csv_source(root, _contract(1, STATUSES), data="data/*.csv")
    (root / "candidates").mkdir()
    (root / "candidates" / "orders.v2.yaml").write_text(yaml.safe_dump(_contract(2, None)))
    return root


def test_recheck_predicts_replay_record_by_record(
    project: Path, store: Store, prefect_api: str
) -> None:
    tg(project, store, "run", "orders", code=3)  # a file rejected: a data outcome
    pending = query(
        store,
        "SELECT id, record, rules FROM quarantine WHERE status = 'pending' ORDER BY id",
    )
    file_level = [i for i, _, rules in pending if rules == "_file.unreadable"]
    by_line = {line: i for i, line, rules in pending if rules != "_file.unreadable"}
    rows = {i: ROWS[line - 2] for line, i in by_line.items()}  # line 1 is the header
    assert len(file_level) == 1
    assert set(rows.values()) == {r for r in ROWS if _v1_rules(r)}
    assert {k for _, _, k in pending} >= {"status.isin", "amount.ge"}
    # a reviewer fixes one record that fails amount only: it counts with its edit
    edited = min(i for i, r in rows.items() if _v1_rules(r) == {"amount.ge"})
    tg(project, store, "quarantine", "edit", str(edited), "--set", "amount=5")
    # the candidate beside the current contract in schemas/, as a team keeps it
    candidate = project / "schemas" / "orders.v2.yaml"
    candidate.write_text((project / "candidates" / "orders.v2.yaml").read_text())
    before = _snapshot(store)

    # expected from the data: status-only failures (and the edit) pass under v2, except
    # the second of two records with one key (a replay keeps it pending)
    relaxed = sorted(i for i, r in rows.items() if _v1_rules(r) == {"status.isin"})
    first_of_key: dict[int, int] = {}
    for i in relaxed:
        first_of_key.setdefault(rows[i][0], i)
    expected = sorted({*first_of_key.values(), edited})
    expected_failing = sorted(set(rows) - set(expected))

    out = tg(
        project, store, "quarantine", "recheck", "--contract", "schemas/orders.v2.yaml",
        "--format", "json",
    )  # fmt: skip
    figures = json.loads(out)
    assert figures["records"] == len(rows) and figures["file_level"] == 1
    assert figures["accepted"] == len(expected)
    assert figures["accepted_now"] == 1  # under v1 only the edited record passes
    assert figures["samples"]["accepted"] == expected
    assert figures["samples"]["still_failing"] == expected_failing
    # the edited record passes under v1 already: it fails no rule now
    assert figures["passed_by_rule"] == {"status.isin": len(expected) - 1}
    amount_failing = sum(1 for i in expected_failing if "amount.ge" in _v1_rules(rows[i]))
    assert figures["failing_by_rule"] == {
        "amount.ge": amount_failing,
        "_row.duplicate_key": len(relaxed) - len(first_of_key),
    }
    table = tg(
        project, store, "quarantine", "recheck", "--contract", "schemas/orders.v2.yaml",
        "--source", "orders",
    )  # fmt: skip
    assert (
        f"{len(expected)} would be accepted by the candidate (1 by the current contract)" in table
    )
    assert f"accepted, ids: {', '.join(map(str, expected))}" in table
    assert "1 file-level entry is not a record and is not rechecked" in table
    assert _snapshot(store) == before  # nothing written: target, quarantine, audit

    # make v2 current (its text in the file the pipeline names; the candidate stays beside
    # it in schemas/) and replay every pending record: exactly those recheck named load
    (project / "schemas" / "orders.yaml").write_text(candidate.read_text())
    loaded_before = scalar(store, "SELECT count(*) FROM orders")
    tg(project, store, "quarantine", "replay", "--source", "orders")
    replayed = [i for (i,) in query(store, "SELECT id FROM quarantine WHERE status = 'replayed'")]
    still = query(store, "SELECT id FROM quarantine WHERE status = 'pending' ORDER BY id")
    assert sorted(replayed) == expected
    assert [i for (i,) in still] == sorted([*expected_failing, *file_level])
    updated = sum(1 for i in expected if rows[i][0] <= 5)  # a key loaded clean: updated
    assert scalar(store, "SELECT count(*) FROM orders") == loaded_before + len(expected) - updated


def test_recheck_refuses_bad_input_in_one_line(
    project: Path, store: Store, prefect_api: str
) -> None:
    tg(project, store, "run", "orders", code=3)
    out = tg(project, store, "quarantine", "recheck", "--contract", "nope.yaml", code=2)
    assert "nope.yaml" in out and "Traceback" not in out
    (project / "bad.yaml").write_text("source: orders\nversion: 1\ncolumns: {id: {type: nope}}\n")
    out = tg(project, store, "quarantine", "recheck", "--contract", "bad.yaml", code=2)
    assert "bad.yaml" in out and "Traceback" not in out
    args = ["quarantine", "recheck", "--contract", "candidates/orders.v2.yaml"]
    out = tg(project, store, *args, "--source", "customers", code=2)
    assert "customers" in out and "orders" in out
    out = tg(project, store, *args, "--format", "xml", code=2)
    assert "xml" in out
    tg(project, store, "quarantine", "reject", "--source", "orders", "--reason", "test")
    out = tg(project, store, *args)
    assert "nothing to recheck: 0 pending records of orders" in out


def test_a_loaded_key_is_refused_as_replay_refuses_it(
    project: Path, store: Store, prefect_api: str
) -> None:
    import tidegate

    tg(project, store, "run", "orders", code=3)
    strict = {**_contract(2, None), "policy": {"on_existing_key": "quarantine"}}
    (project / "candidates" / "strict.yaml").write_text(yaml.safe_dump(strict))
    loaded = {i for (i,) in query(store, "SELECT id FROM orders")}
    pending = query(store, "SELECT id, raw FROM quarantine WHERE status = 'pending' ORDER BY id")
    on_loaded_key = [i for i, raw in pending if int(json.loads(raw).get("id", 0)) in loaded]
    before = _snapshot(store)
    seen: list[tuple[int, int]] = []
    candidate = project / "candidates" / "strict.yaml"
    result = tidegate.recheck(store, candidate, page_size=4, on_progress=lambda *a: seen.append(a))
    assert result.refused_existing_key == tuple(on_loaded_key) and len(on_loaded_key) == 1
    assert result.failing_by_rule["_row.existing_key"] == 1
    assert seen[-1] == (len(pending), len(pending)) and len(seen) == -(-len(pending) // 4)
    args = ["quarantine", "recheck", "--contract", "candidates/strict.yaml"]
    figures = json.loads(tg(project, store, *args, "--rule", "amount.ge", "-f", "json"))
    assert figures["records"] == sum(1 for r in ROWS if "amount.ge" in _v1_rules(r))
    assert figures["accepted"] == 0 and figures["refused_existing_key"] == []
    file_level = {
        i
        for (i,) in query(store, "SELECT id FROM quarantine WHERE rules = ?", ["_file.unreadable"])
    }
    judged = sorted((*result.accepted_ids, *result.failing_ids))
    assert judged == [i for i, _ in pending if i not in file_level]
    assert result.file_level == len(file_level) == 1
    assert _snapshot(store) == before
    # replay under it stops at the loaded key, as recheck said
    (project / "schemas" / "orders.yaml").write_text(yaml.safe_dump(strict))
    out = tg(project, store, "quarantine", "replay", str(on_loaded_key[0]), code=2)
    assert "key already loaded" in out
