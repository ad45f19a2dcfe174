"""`tidegate doctor` judges each shadowed pipeline's promote_if gates, on both stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shadow_support import append_batches, make_project, runner, shadowed_history, tg
from tidegate.cli import app
from tidegate.store import Store


def gate_checks(store: Store, root: Path) -> list[dict[str, Any]]:
    result = tg(store, root, "doctor", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    checks = json.loads(result.output)["checks"]
    return [c for c in checks if c["check"] == "promote gates"]


def test_failing_gates_warn_with_the_figures(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"new_failures_ratio": {"lt": 0.001}})
    shadowed_history(store, root)
    [check] = gate_checks(store, root)
    assert check["subject"] == "orders" and check["status"] == "warn"
    assert "1 of 1 gates fail over 3 batches of schemas/orders.v4.yaml" in check["detail"]
    assert "new_failures_ratio 0.0125 < 0.001: fails" in check["detail"]
    assert "tidegate schema shadow-report orders" in check["todo"]


def test_passing_gates_pass(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"new_failures_ratio": {"le": 0.0125}})
    shadowed_history(store, root)
    [check] = gate_checks(store, root)
    assert check["status"] == "pass"
    assert "new_failures_ratio 0.0125 <= 0.0125: passes" in check["detail"]
    table = tg(store, root, "doctor")
    assert "promote gates: orders" in table.output


def test_no_shadow_data_yet_warns(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"batches": {"ge": 5}})
    append_batches(store, [("b-plain", "batch_committed", None)])
    [check] = gate_checks(store, root)
    assert check["status"] == "warn"
    assert check["detail"] == "no shadow data yet for schemas/orders.v4.yaml"


def test_a_pipeline_without_promote_if_has_no_gate_check(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    shadowed_history(store, root)
    assert gate_checks(store, root) == []


def test_a_shadow_candidate_beside_the_contract_is_not_a_second_contract(
    store: Store, tmp_path: Path
) -> None:
    """schemas/orders.v4.yaml declares source orders too: as the pipeline's shadow: it
    checks out (in doctor, `schema check` and review); a third file for orders is refused."""
    root = make_project(tmp_path / "p")
    result = tg(store, root, "doctor", "--format", "json")
    checks = {
        c["subject"]: c for c in json.loads(result.output)["checks"] if c["check"] == "contract"
    }
    assert checks["orders"]["status"] == "pass", checks["orders"]
    assert checks["schemas/orders.v4.yaml"]["status"] == "pass"
    assert "the shadow candidate of pipeline orders" in checks["schemas/orders.v4.yaml"]["detail"]
    check = ["schema", "check", "--project", str(root)]
    checked = runner.invoke(app, check)
    assert checked.exit_code == 0, checked.output
    assert "orders v4" in checked.output and "(a shadow candidate)" in checked.output
    from tidegate.review import current_contract

    current = current_contract(root, "orders")
    assert current is not None and current.version == 3  # never the candidate
    (root / "schemas" / "orders.old.yaml").write_text(
        (root / "schemas" / "orders.yaml").read_text()
    )
    refused = runner.invoke(app, check)
    assert refused.exit_code == 1
    said = "".join(refused.output.split())  # rich wraps long paths
    assert "alsodeclaredin" in said and "orders.old.yaml" in said
