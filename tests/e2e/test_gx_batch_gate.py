"""A contract's GX suite gates the batch through the real CLI, on both stores, in one
piece and in chunks: a failed batch expectation holds the batch under
``on_batch_failure: hold`` (exit 3, every row quarantined with the expectation named,
nothing loaded) and is a warning under ``warn`` (loaded, printed, audited); either way
the batch's audit entry keeps the suite's summary as ``details["expectations"]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from helpers import CLEAN_CSV, make_sales_project, query
from store_backends import store_arg
from tidegate import EXIT_DATA_HELD, EXIT_OK
from tidegate.cli import app
from tidegate.rules import HELD_RULE
from tidegate.store import Store

pytest.importorskip("great_expectations")

runner = CliRunner()
MEAN = "expect_column_mean_to_be_between"
ROW_COUNT = "expect_table_row_count_to_be_between"
MEAN_RULE = f"amount.{MEAN}"
REASON = f"batch expectation failed: {MEAN_RULE} (observed 30)"  # CLEAN_CSV: 10..50
CHUNKS = [pytest.param(None, id="one-piece"), pytest.param(2, id="chunks-of-2")]


def suite_project(
    root: Path, on_batch_failure: str, chunk_size: int | None, max_mean: float = 25
) -> Path:
    """The sales project (5 clean rows, amount 10..50) with a suite of batch expectations:
    the mean of amount at most ``max_mean``, and 1 to 100 rows."""
    project = make_sales_project(root, {"a.csv": CLEAN_CSV})
    suite = {
        "name": "sales",
        "expectations": [
            {"type": MEAN, "kwargs": {"column": "amount", "min_value": 0, "max_value": max_mean}},
            {"type": ROW_COUNT, "kwargs": {"min_value": 1, "max_value": 100}},
        ],
    }
    (project / "schemas" / "sales.gx.json").write_text(json.dumps(suite))
    contract_file = project / "schemas" / "sales.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["expectations"] = {"suite": "sales.gx.json", "on_batch_failure": on_batch_failure}
    contract_file.write_text(yaml.safe_dump(contract))
    if chunk_size is not None:
        pipeline_file = project / "pipelines" / "sales.yaml"
        pipeline = yaml.safe_load(pipeline_file.read_text())
        pipeline["source"]["chunk_size"] = chunk_size
        pipeline_file.write_text(yaml.safe_dump(pipeline))
    return project


def run(project: Path, store: Store) -> tuple[int, str]:
    args = ["run", "sales", "--project", str(project), "--store", store_arg(store)]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def batch_entry(store: Store) -> tuple[str, dict[str, Any]]:
    (entry,) = query(store, "SELECT event, detail FROM audit WHERE event LIKE 'batch_%'")
    return str(entry[0]), json.loads(entry[1])


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_a_failed_batch_expectation_holds_the_batch(
    tmp_path: Path, store: Store, prefect_api: str, chunk_size: int | None
) -> None:
    project = suite_project(tmp_path / "p", "hold", chunk_size)
    code, output = run(project, store)
    assert code == EXIT_DATA_HELD, output
    assert REASON in " ".join(output.split())
    assert query(store, "SELECT count(*) FROM sales") == [(0,)]
    quarantined = query(store, "SELECT record, rules, errors FROM quarantine ORDER BY record")
    assert [r[0] for r in quarantined] == [2, 3, 4, 5, 6]  # the lines of a.csv
    for _, rules, errors in quarantined:
        assert rules == HELD_RULE
        assert [e["message"] for e in json.loads(errors)] == [REASON]
    event, detail = batch_entry(store)
    assert event == "batch_held" and detail["held"] == REASON
    summary = detail["expectations"]
    assert summary["success"] is False and summary["held"] is True
    assert summary["on_batch_failure"] == "hold" and summary["suite"] == "sales"
    mean, count = summary["results"]
    assert mean["rule"] == MEAN_RULE and mean["success"] is False
    assert mean["observed_value"] == 30 and mean["scope"] == "batch"
    assert count["success"] is True and count["observed_value"] == 5
    assert query(store, "SELECT count(*) FROM checkpoints") == [(1,)]  # held, not retried
    assert run(project, store)[0] == EXIT_OK  # the same content again: a skip


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_under_warn_the_batch_commits_and_the_warning_is_printed_and_audited(
    tmp_path: Path, store: Store, prefect_api: str, chunk_size: int | None
) -> None:
    project = suite_project(tmp_path / "p", "warn", chunk_size)
    code, output = run(project, store)
    assert code == EXIT_OK, output
    warning = f"{REASON} (on_batch_failure: warn)"
    lines = [line for line in output.splitlines() if "warning:" in line]
    assert len(lines) == 1 and "a.csv: warning: batch expectation failed" in lines[0]
    assert warning in " ".join(output.split())
    assert query(store, "SELECT count(*), sum(amount) FROM sales") == [(5, 150)]
    assert query(store, "SELECT count(*) FROM quarantine") == [(0,)]
    event, detail = batch_entry(store)
    assert event == "batch_committed" and detail["held"] is None
    assert detail["warnings"] == [warning]
    summary = detail["expectations"]
    assert summary["success"] is False and summary["held"] is False
    assert [r["success"] for r in summary["results"]] == [False, True]


def test_a_passing_suite_loads_and_its_summary_builds_the_data_docs(
    tmp_path: Path, prefect_api: str
) -> None:
    from tidegate.audit._data_docs import build_data_docs, validations_of
    from tidegate.store import open_store, read_audit, transaction

    store = open_store(tmp_path / "t.duckdb")
    project = suite_project(tmp_path / "p", "hold", 2, max_mean=35)
    code, output = run(project, store)
    assert code == EXIT_OK, output
    assert "warning" not in output
    assert query(store, "SELECT count(*) FROM sales") == [(5,)]
    event, detail = batch_entry(store)
    assert event == "batch_committed" and detail["expectations"]["success"] is True
    with transaction(store) as con:
        found = validations_of(read_audit(con))
    assert [v.summary["suite"] for v in found] == ["sales"]
    index = build_data_docs(found, tmp_path / "docs")
    assert index.is_file()
