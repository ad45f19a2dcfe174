"""Contract versions through the real CLI, on both stores: every text that committed a
batch is recorded (`schema history`), two versions compare in words (`schema diff`), a
changed file with the same `version:` is warned about (run, audit, history, doctor), and
`schema rollback` restores an earlier text, audited, so the next run commits under it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import query
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store

runner = CliRunner()

V1 = """# orders, first cut
source: orders
version: 1
primary_key: [id]
columns:
  id: {type: int64, nullable: false}
  amount:
    type: float64
    checks:
      - ge: 0
"""
V2 = V1.replace("version: 1", "version: 2").replace(
    "      - ge: 0\n", "      - ge: 0\n      - le: 1000\n  status: {type: string}\n"
)
V1_CHANGED = V1.replace("      - ge: 0\n", "      - ge: 5\n")  # same version: 1


def _project(root: Path, text: str = V1) -> Path:
    for folder in ("schemas", "pipelines", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "schemas" / "orders.yaml").write_text(text)
    (root / "pipelines" / "orders.yaml").write_text(
        "name: orders\nsource: {kind: file, path: data/*.csv, format: csv}\n"
        "contract: schemas/orders.yaml\n"
    )
    return root


def _data(project: Path, name: str, rows: str) -> None:
    (project / "data" / name).write_text("id,amount,status\n" + rows)


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _where(project: Path, store: Store) -> list[str]:
    return ["--project", str(project), "--store", store_arg(store)]


def _audit(store: Store, event: str) -> list[dict[str, Any]]:
    rows = query(store, "SELECT detail FROM audit WHERE event = ? ORDER BY seq", [event])
    return [json.loads(r[0]) for r in rows]


def _committed_under(store: Store) -> dict[str, int]:
    rows = query(store, "SELECT location, contract_version FROM checkpoints ORDER BY committed_at")
    return {Path(loc).name: v for loc, v in rows}


def test_history_lists_the_versions_that_committed(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    project = _project(tmp_path / "p")
    where = _where(project, store)
    _data(project, "a.csv", "1,10,new\n2,20,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    (project / "schemas" / "orders.yaml").write_text(V2)
    _data(project, "b.csv", "3,30,paid\n")
    _data(project, "c.csv", "4,40,paid\n")
    assert _cli("run", "orders", *where)[0] == 0

    rows = query(
        store,
        "SELECT version, contract_text, first_batch_id FROM contract_versions "
        "WHERE source = 'orders' ORDER BY first_committed_at",
    )
    assert [(v, t) for v, t, _ in rows] == [(1, V1), (2, V2)]
    code, out = _cli("schema", "history", "orders", "--format", "json", *where)
    assert code == 0, out
    listed = json.loads(out)["versions"]
    assert [(v["version"], v["batches"]) for v in listed] == [(1, 1), (2, 2)]
    assert [v["first_batch_id"] for v in listed] == [r[2] for r in rows]
    assert not any(v["changed_without_bump"] for v in listed)
    code, out = _cli("schema", "history", "orders", *where)
    assert code == 0 and listed[1]["content_hash"][:12] in out, out
    assert "changed without a version bump" not in out
    # each batch's audit entry names the hash of a recorded text
    hashes = {e["contract"]["hash"] for e in _audit(store, "batch_committed")}
    assert hashes == {v["content_hash"] for v in listed}


def test_a_changed_file_with_the_same_version_is_warned_about(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    project = _project(tmp_path / "p")
    where = _where(project, store)
    _data(project, "a.csv", "1,10,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    first = _audit(store, "batch_committed")[0]["contract"]["hash"]
    (project / "schemas" / "orders.yaml").write_text(V1_CHANGED)
    _data(project, "b.csv", "2,20,new\n")
    code, out = _cli("run", "orders", *where)
    assert code == 0, out
    flat = " ".join(out.split())
    assert "warning: contract orders v1 changed without a version bump" in flat, out
    entries = _audit(store, "batch_committed")
    assert "contract_changed_without_bump" not in entries[0]
    assert entries[1]["contract_changed_without_bump"] == {"version": 1, "previous_hash": first}

    code, out = _cli("schema", "history", "orders", "--format", "json", *where)
    listed = json.loads(out)["versions"]
    assert [(v["version"], v["changed_without_bump"]) for v in listed] == [(1, True), (1, True)]
    code, out = _cli("schema", "history", "orders", *where)
    assert code == 0 and "changed without a version bump" in out, out

    code, out = _cli("doctor", "--format", "json", *where)
    (check,) = [c for c in json.loads(out)["checks"] if c["check"] == "contract versions"]
    assert check["status"] == "warn" and "without a version bump" in check["detail"]
    assert "bump `version:`" in check["todo"]
    # a version number recorded under two texts is ambiguous to diff
    code, out = _cli("schema", "diff", "orders", "1", str(project / "schemas/orders.yaml"), *where)
    assert code == 2 and "ambiguous" in out and len(out.strip().splitlines()) == 1, out
    code, out = _cli("schema", "diff", "orders", first[:8], "schemas/orders.yaml", *where)
    assert code == 0 and "amount.ge 0 → 5" in out, out


def test_diff_by_version_hash_and_file(tmp_path: Path, store: Store, prefect_api: str) -> None:
    project = _project(tmp_path / "p")
    where = _where(project, store)
    _data(project, "a.csv", "1,10,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    (project / "schemas" / "orders.yaml").write_text(V2)
    _data(project, "b.csv", "2,20,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    h2 = query(store, "SELECT content_hash FROM contract_versions WHERE version = 2")[0][0]

    for second in ("2", "v2", h2[:6], str(project / "schemas" / "orders.yaml")):
        code, out = _cli("schema", "diff", "orders", "1", second, *where)
        assert code == 0, out
        assert "version 1 → 2" in out and "column status added" in out, out
        assert "column amount: check amount.le added: 1000" in out, out
    code, out = _cli("schema", "diff", "orders", "1", "2", "--format", "json", *where)
    kinds = {c["kind"] for c in json.loads(out)["changes"]}
    assert kinds == {"version_changed", "column_added", "check_added"}

    # unknown versions, sources and values: one line naming what exists, exit 2
    for args, named in (
        (("orders", "7", "2"), "recorded: v1"),
        (("orders", "abcdef99", "2"), "recorded: v1"),
        (("orders", "x!", "2"), "neither a version number"),
        (("nosuch", "1", "2"), "sources with recorded versions: orders"),
    ):
        code, out = _cli("schema", "diff", *args, *where)
        assert code == 2 and named in " ".join(out.split()), out
        assert len(out.strip().splitlines()) == 1 and "Traceback" not in out, out
    code, out = _cli("schema", "history", "nosuch", *where)
    assert code == 2 and len(out.strip().splitlines()) == 1 and "orders" in out, out


def test_rollback_restores_the_earlier_text_and_the_next_run_commits_under_it(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    project = _project(tmp_path / "p")
    where = _where(project, store)
    contract_file = project / "schemas" / "orders.yaml"
    _data(project, "a.csv", "1,10,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    contract_file.write_text(V2)
    _data(project, "b.csv", "2,20,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    (h1,), (h2,) = query(
        store, "SELECT content_hash FROM contract_versions ORDER BY first_committed_at"
    )

    # without --yes nothing is written
    code, out = _cli("schema", "rollback", "orders", *where)
    assert code == 2 and "--yes" in out and contract_file.read_text() == V2, out
    # uncommitted changes are refused unless --force
    contract_file.write_text(V2 + "description: draft\n")
    code, out = _cli("schema", "rollback", "orders", "--yes", *where)
    assert code == 2 and "--force" in out and len(out.strip().splitlines()) == 1, out
    contract_file.write_text(V2)
    code, out = _cli("schema", "rollback", "orders", "9", "--yes", *where)
    assert code == 2 and "no recorded version 9" in out, out
    assert _audit(store, "contract_rolled_back") == []

    code, out = _cli("schema", "rollback", "orders", "--yes", *where)
    assert code == 0, out
    assert "the next run commits under version 1" in " ".join(out.split()), out
    assert contract_file.read_bytes() == V1.encode()
    (event,) = _audit(store, "contract_rolled_back")
    assert event["from"] == {"version": 2, "content_hash": h2}
    assert event["to"] == {"version": 1, "content_hash": h1}
    assert event["path"] == str(contract_file.resolve())
    code, out = _cli("audit", "list", "--event", "contract_rolled_back", *where)
    assert code == 0 and "v2 → v1" in out, out

    _data(project, "c.csv", "3,30,new\n")
    code, out = _cli("run", "orders", *where)
    assert code == 0, out
    assert _committed_under(store) == {"a.csv": 1, "b.csv": 2, "c.csv": 1}
    batches = _audit(store, "batch_committed")
    assert [e["contract"]["hash"] for e in batches] == [h1, h2, h1]
    assert "contract_changed_without_bump" not in batches[-1]
    code, out = _cli("schema", "history", "orders", "--format", "json", *where)
    assert [(v["version"], v["batches"]) for v in json.loads(out)["versions"]] == [(1, 2), (2, 1)]
    # rolling back again from v1: nothing earlier to go to
    code, out = _cli("schema", "rollback", "orders", "--yes", *where)
    assert code == 2 and "nothing to roll back to" in out, out


def _suite(min_value: int) -> str:
    expectation = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "amount", "min_value": min_value},
    }
    return json.dumps({"name": "orders", "expectations": [expectation]}, indent=2) + "\n"


def test_rollback_restores_the_suite_the_version_was_recorded_with(
    tmp_path: Path, store: Store, prefect_api: str
) -> None:
    pytest.importorskip("great_expectations")
    with_suite = V1 + "expectations: {suite: orders.gx.json}\n"
    project = _project(tmp_path / "p", with_suite)
    suite_file = project / "schemas" / "orders.gx.json"
    suite_file.write_text(_suite(0))
    where = _where(project, store)
    _data(project, "a.csv", "1,10,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    ((recorded_suite,),) = query(store, "SELECT suite_text FROM contract_versions")
    assert recorded_suite == _suite(0)

    (project / "schemas" / "orders.yaml").write_text(with_suite.replace("version: 1", "version: 2"))
    suite_file.write_text(_suite(15))
    _data(project, "b.csv", "2,20,new\n")
    assert _cli("run", "orders", *where)[0] == 0
    code, out = _cli("schema", "diff", "orders", "1", "2", *where)
    assert code == 0 and "GX expectation amount.expect_column_values_to_be_between" in out, out

    code, out = _cli("schema", "rollback", "orders", "1", "--yes", *where)
    assert code == 0, out
    assert (project / "schemas" / "orders.yaml").read_text() == with_suite
    assert suite_file.read_text() == _suite(0)
    (event,) = _audit(store, "contract_rolled_back")
    assert event["suite_path"] == str(suite_file.resolve())
    assert (event["from"]["version"], event["to"]["version"]) == (2, 1)
    _data(project, "c.csv", "3,5,new\n")  # 5 passes under v1's suite (min 0), not v2's
    assert _cli("run", "orders", *where)[0] == 0
    assert query(store, "SELECT count(*) FROM orders WHERE id = 3") == [(1,)]
