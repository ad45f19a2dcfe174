"""A contract's whole rollout through the real CLI and Prefect flow, on both stores:
shadow a candidate, read the shadow report, promote it through its gate, run under it,
roll back, run again. Every batch says which contract text it was committed under, the
contract file holds each version's text byte for byte, and the audit records each step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from helpers import query, write_csv_source
from store_backends import store_arg
from tidegate.cli import app
from tidegate.contracts import load_contract
from tidegate.store import Store

runner = CliRunner()

V1: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "primary_key": ["id"],
    "columns": {
        "id": {"type": "int64", "nullable": False},
        "status": {"type": "string", "checks": [{"isin": ["pending", "shipped"]}]},
        "amount": {"type": "float64", "checks": [{"ge": 0}]},
    },
    "policy": {"max_quarantine_ratio": 1.0},
}
# v2 accepts `returned` and refuses amounts over 1000
V2: dict[str, Any] = {
    **V1,
    "version": 2,
    "columns": {
        **V1["columns"],
        "status": {"type": "string", "checks": [{"isin": ["pending", "shipped", "returned"]}]},
        "amount": {"type": "float64", "checks": [{"ge": 0}, {"le": 1000}]},
    },
}


def _rows(first: int, count: int) -> list[tuple[int, str, float]]:
    """Every 5th row is `returned` (v1 fails it, v2 takes it), every 7th costs 5000
    (v1 takes it, v2 fails it)."""
    rows = []
    for i in range(first, first + count):
        status = "returned" if i % 5 == 0 else ("pending" if i % 2 else "shipped")
        amount = 5000.0 if i % 7 == 0 else float(i)
        rows.append((i, status, amount))
    return rows


def _write(path: Path, rows: list[tuple[int, str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id,status,amount\n" + "".join(f"{i},{s},{a}\n" for i, s, a in rows))


def _cli(store: Store, project: Path, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--project", str(project), "--store", store_arg(store)])
    assert "Traceback" not in result.output, result.output
    return result


def _committed(store: Store) -> list[tuple[str, int, str]]:
    """(location, contract version, contract hash) of every committed batch, in order."""
    rows = query(
        store,
        "SELECT detail FROM audit WHERE source = 'orders' AND event = 'batch_committed' "
        "ORDER BY seq",
    )
    details = [json.loads(d) for (d,) in rows]
    return [
        (Path(d["location"]).name, d["contract"]["version"], d["contract"]["hash"]) for d in details
    ]


def test_shadow_promote_run_rollback_run(store: Store, tmp_path: Path, prefect_api: str) -> None:
    project = tmp_path / "p"
    project.mkdir()
    rows1 = _rows(1, 70)
    _write(project / "data" / "a.csv", rows1)
    write_csv_source(
        project,
        V1,
        data="data/*.csv",
        shadow="schemas/orders.v2.yaml",
        promote_if={"new_failures_ratio": {"lt": 0.2}},
    )
    current = project / "schemas" / "orders.yaml"
    candidate = project / "schemas" / "orders.v2.yaml"
    candidate.write_text(yaml.safe_dump(V2))
    v1_text, v2_text = current.read_text(), candidate.read_text()
    v1_hash = load_contract(current).content_hash
    v2_hash = load_contract(candidate).content_hash

    # 1. a run under v1, shadowed by v2
    ran = _cli(store, project, "run", "orders")
    assert ran.exit_code == 0, ran.output
    returned = {i for i, s, _ in rows1 if s == "returned"}
    dear = {i for i, _, a in rows1 if a > 1000}
    (raw,) = query(
        store, "SELECT detail FROM audit WHERE event = 'batch_committed' AND source = 'orders'"
    )[0]
    shadow = json.loads(raw)["shadow"]
    # a returned row costing 5000 fails under both: not new either way
    assert shadow["newly_passed"] == len(returned - dear)
    assert shadow["newly_failed"] == len(dear - returned)
    assert shadow["rows"] == len(rows1)
    assert (shadow["version"], shadow["content_hash"]) == (2, v2_hash)
    (loaded,) = query(store, "SELECT count(*) FROM orders")[0]
    assert loaded == len(rows1) - len(returned)  # v1 decided what loaded

    report = _cli(store, project, "schema", "shadow-report", "orders", "--format", "json")
    assert report.exit_code == 0, report.output
    picture = json.loads(report.output)
    assert (picture["summary"]["batches"], picture["gates_pass"]) == (1, True)
    assert picture["summary"]["newly_failed"] == len(dear - returned)

    # 2. promote through the gate: v2's text becomes the current file's
    promoted = _cli(store, project, "schema", "promote", "orders", "--yes")
    assert promoted.exit_code == 0, promoted.output
    assert current.read_text() == v2_text

    rows2 = _rows(71, 30)
    _write(project / "data" / "b.csv", rows2)
    ran = _cli(store, project, "run", "orders")
    assert ran.exit_code == 0, ran.output

    # 3. roll back to v1 and run a third file
    rolled = _cli(store, project, "schema", "rollback", "orders", "1", "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert current.read_text() == v1_text
    _write(project / "data" / "c.csv", _rows(101, 30))
    ran = _cli(store, project, "run", "orders")
    assert ran.exit_code == 0, ran.output

    assert _committed(store) == [
        ("a.csv", 1, v1_hash),
        ("b.csv", 2, v2_hash),
        ("c.csv", 1, v1_hash),
    ]
    events = query(
        store,
        "SELECT event, detail FROM audit WHERE event IN "
        "('contract_promoted', 'contract_rolled_back') ORDER BY seq",
    )
    assert [e for e, _ in events] == ["contract_promoted", "contract_rolled_back"]
    promoted_detail, rolled_detail = (json.loads(d) for _, d in events)
    assert promoted_detail["from"]["content_hash"] == v1_hash
    assert promoted_detail["to"]["content_hash"] == v2_hash
    assert promoted_detail["shadow"]["newly_failed"] == len(dear - returned)
    assert all(g["passed"] for g in promoted_detail["gates"])
    assert (rolled_detail["from"]["content_hash"], rolled_detail["to"]["content_hash"]) == (
        v2_hash,
        v1_hash,
    )
    history = _cli(store, project, "schema", "history", "orders", "--format", "json")
    assert history.exit_code == 0, history.output
    versions = {v["content_hash"]: v for v in json.loads(history.output)["versions"]}
    assert set(versions) == {v1_hash, v2_hash}
    assert (versions[v1_hash]["batches"], versions[v2_hash]["batches"]) == (2, 1)
    assert (versions[v1_hash]["version"], versions[v2_hash]["version"]) == (1, 2)
    # the file holds v1 again: history says which recorded text is the current one
    assert (versions[v1_hash]["current"], versions[v2_hash]["current"]) == (True, False)
    verified = runner.invoke(app, ["audit", "verify", "--store", store_arg(store)])
    assert verified.exit_code == 0 and "verified" in verified.output, verified.output
