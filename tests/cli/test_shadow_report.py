"""`tidegate schema shadow-report` on both stores: the figures of the candidate's batches
(appended as the engine appends them), grouped by candidate text; the gates; no data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shadow_support import (
    OLD_HASH,
    append_batches,
    candidate_hash,
    make_project,
    shadow,
    shadowed_history,
    tg,
)
from store_backends import store_arg
from tidegate.audit._shadow import summarize_shadow
from tidegate.audit._shadow_gates import evaluate_gates
from tidegate.errors import PipelineError
from tidegate.pipelines import load_pipeline
from tidegate.store import Store

GATES = {"new_failures_ratio": {"lt": 0.001}, "batches": {"ge": 3}}


def test_json_figures_are_the_sums_of_the_candidates_batches(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", GATES)
    shadowed_history(store, root)
    result = tg(store, root, "schema", "shadow-report", "orders", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    s = out["summary"]
    assert s["content_hash"] == candidate_hash(root) and s["version"] == 4
    assert s["contract"] == "schemas/orders.v4.yaml"
    assert (s["batches"], s["ignored_batches"], s["held_batches"]) == (3, 2, 1)
    assert (s["rows"], s["passed"], s["quarantined"]) == (400, 380, 20)
    assert (s["newly_failed"], s["newly_passed"]) == (5, 1)
    assert s["newly_failed_by_rule"] == {"amount.le": 3, "id.not_null": 2}
    assert s["newly_passed_by_rule"] == {"amount.ge": 1}
    assert s["samples"]["newly_failed"] == [
        {"batch_id": "b1", "record": 12},
        {"batch_id": "b1", "record": 40},
        {"batch_id": "b2", "record": 3},
    ]
    assert s["samples"]["newly_passed"] == [{"batch_id": "b1", "record": 7}]
    assert s["metrics"]["new_failures_ratio"] == pytest.approx(5 / 400)
    assert s["metrics"]["failure_ratio"] == pytest.approx(20 / 400)
    assert s["first_at"] <= s["last_at"]
    gates = {(g["metric"], g["op"]): g for g in out["gates"]}
    assert gates.keys() == {("new_failures_ratio", "lt"), ("batches", "ge")}
    failing = gates["new_failures_ratio", "lt"]
    assert failing["passed"] is False and failing["value"] == pytest.approx(0.0125)
    assert failing["threshold"] == 0.001 and gates["batches", "ge"]["passed"] is True
    assert out["gates_pass"] is False


def test_last_n_takes_the_newest_batches_of_the_candidate(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", GATES)
    shadowed_history(store, root)
    result = tg(store, root, "schema", "shadow-report", "orders", "--last", "2", "--format", "json")
    s = json.loads(result.output)["summary"]
    assert (s["batches"], s["rows"], s["newly_failed"], s["held_batches"]) == (2, 300, 3, 1)
    assert [x["batch_id"] for x in s["samples"]["newly_failed"]] == ["b2"]


def test_the_newest_candidate_text_wins(store: Store, tmp_path: Path) -> None:
    """A batch of another text after the candidate's: the summary is of that newest text."""
    root = make_project(tmp_path / "p")
    shadowed_history(store, root)
    append_batches(store, [("b9", "batch_committed", shadow(OLD_HASH, 50, 1, 0, {}, []))])
    s = json.loads(tg(store, root, "schema", "shadow-report", "orders", "-f", "json").output)
    assert "summary" in s
    summary = s["summary"]
    assert (summary["content_hash"], summary["batches"], summary["rows"]) == (OLD_HASH, 3, 2050)
    assert summary["ignored_batches"] == 3 and s["gates"] is None


def test_table_shows_figures_rules_samples_and_gates(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", GATES)
    shadowed_history(store, root)
    result = tg(store, root, "schema", "shadow-report", "orders")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "candidate schemas/orders.v4.yaml v4" in text and "3 batches" in text
    assert "2 batches shadowed under an older candidate text ignored" in text
    for figure in ("400", "380", "1.25%", "amount.le", "id.not_null", "record 40 of b1"):
        assert figure in text, figure
    assert "gate new_failures_ratio 0.0125 < 0.001: fails" in text
    assert "gate batches 3 >= 3: passes" in text


@pytest.mark.parametrize("with_shadow", [True, False])
def test_no_shadow_data_says_what_to_do(store: Store, tmp_path: Path, with_shadow: bool) -> None:
    root = make_project(tmp_path / "p", GATES if with_shadow else None, shadow=with_shadow)
    append_batches(store, [("b-plain", "batch_committed", None)])
    result = tg(store, root, "schema", "shadow-report", "orders")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "no batch of orders has been shadowed yet" in text
    if with_shadow:
        assert "names shadow: schemas/orders.v4.yaml" in text
        assert "the promote_if gates wait for shadow data" in text and "passes" not in text
        as_json = json.loads(
            tg(store, root, "schema", "shadow-report", "orders", "-f", "json").output
        )
        assert as_json["summary"]["batches"] == 0 and as_json["gates_pass"] is False
    else:
        assert "add `shadow: FILE` to pipelines/orders.yaml and run" in text


def test_an_unknown_source_is_one_line_exit_2(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    result = tg(store, root, "schema", "shadow-report", "ordrs")
    assert result.exit_code == 2
    assert (
        "names a contract for source 'ordrs'" in result.output and "Traceback" not in result.output
    )


def test_shadow_report_imports_neither_prefect_nor_gx(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", GATES)
    shadowed_history(store, root)
    call = ["schema", "shadow-report", "orders", "--project", str(root)]
    call += ["--store", store_arg(store)]
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        f"r = CliRunner().invoke(app, {call!r})\n"
        "assert r.exit_code == 0, r.output\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print('heavy:', ','.join(sorted(top & {'prefect', 'great_expectations'})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "heavy: " in proc.stdout.splitlines(), proc.stdout


@pytest.mark.parametrize(
    ("promote_if", "shadow_key", "says"),
    [
        ({"new_fails": {"lt": 0.1}}, True, "promote_if.new_fails: unknown metric"),
        ({"batches": {"below": 3}}, True, "promote_if.batches.below: unknown operator"),
        ({"batches": {"ge": "three"}}, True, "promote_if.batches.ge: 'three' is not a number"),
        ({"batches": {"ge": True}}, True, "promote_if.batches.ge: True is not a number"),
        ({"batches": 3}, True, "promote_if.batches: 3 is not valid"),
        ({"batches": {"ge": 3}}, False, "promote_if: gates judge a shadow result"),
    ],
)
def test_promote_if_refusals_name_the_file_and_key(
    tmp_path: Path, promote_if: dict[str, object], shadow_key: bool, says: str
) -> None:
    root = make_project(tmp_path / "p", promote_if, shadow=shadow_key)
    with pytest.raises(PipelineError) as caught:
        load_pipeline(root / "pipelines" / "orders.yaml", root)
    assert says in str(caught.value) and "orders.yaml" in str(caught.value)


def test_a_bad_promote_if_refuses_the_command_in_one_line(store: Store, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"new_fails": {"lt": 0.1}})
    result = tg(store, root, "schema", "shadow-report", "orders")
    assert result.exit_code == 2 and "unknown metric" in result.output
    assert "Traceback" not in result.output


def test_gates_compare_each_operator() -> None:
    from tidegate.audit._shadow import ShadowSummary

    summary = ShadowSummary(source="orders", last=20, batches=4, rows=100, newly_failed=1)
    gates = {
        "new_failures_ratio": {"lt": 0.01, "le": 0.01, "eq": 0.01},
        "batches": {"gt": 4, "ge": 4},
        "held_batches": {"eq": 0},
    }
    results = evaluate_gates(gates, summary)
    assert [(g.metric, g.op, g.passed) for g in results] == [
        ("new_failures_ratio", "lt", False),
        ("new_failures_ratio", "le", True),
        ("new_failures_ratio", "eq", True),
        ("batches", "gt", False),
        ("batches", "ge", True),
        ("held_batches", "eq", True),
    ]
    assert summarize_shadow([], "orders").batches == 0
