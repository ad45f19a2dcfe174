"""judge_batch: a suite's batch expectations run by GX on the rows that passed, with the
summary the audit keeps (pii values masked) and the reason a failure holds the batch."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from helpers import suite_contract as make_suite_contract
from tidegate.contracts._model import Contract
from tidegate.validate._gx_batch import judge_batch, referenced_columns, with_row_results

pytest.importorskip("great_expectations")

COLUMNS = {
    "order_id": {"type": "int64"},
    "status": {"type": "string"},
    "amount": {"type": "decimal(12,2)"},
    "email": {"type": "string", "pii": True},
}
ROWS = pl.DataFrame(
    {
        "order_id": [1, 2, 3, 4],
        "status": ["pending", "shipped", "shipped", "returned"],
        "amount": [Decimal("10.00"), Decimal("20.00"), None, Decimal("30.00")],
        "email": ["ann@example.com", "bob@example.org", "cy@example.net", "di@example.com"],
        "_tidegate_record": [1, 2, 3, 4],
    },
    schema_overrides={"amount": pl.Decimal(12, 2)},
)


def suite_contract(
    tmp_path: Path, expectations: list[dict[str, Any]], on_batch_failure: str = "hold"
) -> Contract:
    return make_suite_contract(tmp_path, COLUMNS, expectations, on_batch_failure=on_batch_failure)


def expectation(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs}


ROW_COUNT = "expect_table_row_count_to_be_between"
MEAN = "expect_column_mean_to_be_between"
DISTINCT = "expect_column_distinct_values_to_be_in_set"
PROPORTION = "expect_column_proportion_of_unique_values_to_be_between"
PROP = PROPORTION
TYPES = "expect_column_values_to_be_in_type_list"
COMMON = "expect_column_most_common_value_to_be_in_set"


def test_no_batch_expectations_no_judgement(tmp_path: Path) -> None:
    row_only = [expectation("expect_column_values_to_not_be_null", column="status")]
    assert judge_batch(ROWS, suite_contract(tmp_path, row_only)) is None


@pytest.mark.parametrize(
    ("spec", "rule", "success", "observed"),
    [
        (expectation(ROW_COUNT, min_value=1, max_value=10), f"_batch.{ROW_COUNT}", 1, 4),
        (expectation(ROW_COUNT, min_value=5), f"_batch.{ROW_COUNT}", 0, 4),
        (expectation(MEAN, column="amount", min_value=10, max_value=25), f"amount.{MEAN}", 1, 20),
        (expectation(MEAN, column="amount", min_value=25), f"amount.{MEAN}", 0, 20),
        (expectation(PROP, column="status", min_value=0.7), f"status.{PROP}", 1, 0.75),
        (expectation(PROP, column="status", min_value=0.9), f"status.{PROP}", 0, 0.75),
    ],
)  # fmt: skip
def test_one_batch_expectation_passes_or_fails(
    tmp_path: Path, spec: dict[str, Any], rule: str, success: int, observed: float
) -> None:
    success = bool(success)
    judgement = judge_batch(ROWS, suite_contract(tmp_path, [spec]))
    assert judgement is not None
    assert judgement.success is success
    assert judgement.failed == (() if success else (rule,))
    (entry,) = judgement.summary["results"]
    assert entry["rule"] == rule and entry["scope"] == "batch" and entry["evaluated_by"] == "gx"
    assert entry["observed_value"] == pytest.approx(observed)
    assert judgement.summary["success"] is success and judgement.summary["held"] is not success
    if success:
        assert judgement.hold_reason is None and judgement.warning is None
    else:
        assert judgement.hold_reason == f"batch expectation failed: {rule} (observed {observed:g})"


def test_distinct_values_in_set(tmp_path: Path) -> None:
    good = expectation(DISTINCT, column="status", value_set=["pending", "shipped", "returned"])
    bad = expectation(DISTINCT, column="status", value_set=["pending", "shipped"])
    judgement = judge_batch(ROWS, suite_contract(tmp_path, [good, bad]))
    assert judgement is not None and not judgement.success
    assert judgement.failed == (f"status.{DISTINCT}.2",)
    first, second = judgement.summary["results"]  # in suite order, whatever GX's order
    assert first["success"] and not second["success"]
    assert "returned" in json.dumps(second)
    assert judgement.summary["evaluated"] == 2 and judgement.summary["successful"] == 1


def test_the_summary_has_the_shape_the_data_docs_read(tmp_path: Path) -> None:
    contract = suite_contract(tmp_path, [expectation(ROW_COUNT, min_value=5)], "warn")
    judgement = judge_batch(ROWS, contract)
    assert judgement is not None
    summary = judgement.summary
    assert json.loads(json.dumps(summary)) == summary  # JSON-able as it is
    assert summary["suite"] == "orders" and summary["path"].endswith("orders.gx.json")
    assert len(summary["suite_sha256"]) == 64 and summary["gx_version"].startswith("1.")
    assert summary["on_batch_failure"] == "warn" and summary["held"] is False
    assert judgement.hold_reason is None
    assert judgement.warning == (
        f"batch expectation failed: _batch.{ROW_COUNT} (observed 4) (on_batch_failure: warn)"
    )


def test_pii_values_are_masked(tmp_path: Path) -> None:
    specs = [
        expectation(DISTINCT, column="email", value_set=["ann@example.com"]),
        expectation(COMMON, column="email", value_set=["x"]),
        expectation(PROPORTION, column="email", min_value=0.5),
    ]  # fmt: skip
    judgement = judge_batch(ROWS, suite_contract(tmp_path, specs))
    assert judgement is not None
    text = json.dumps(judgement.summary) + (judgement.hold_reason or "")
    for clear in ("bob@example.org", "cy@example.net", "di@example.com"):
        assert clear not in text
    distinct, common, proportion = judgement.summary["results"]
    assert distinct["partial_unexpected_list"] and all(
        "***@" in v for v in distinct["partial_unexpected_list"]
    )
    assert all("***@" in v for v in common["observed_value"])
    assert proportion["observed_value"] == 1.0  # a proportion is no value of the column


def test_a_decimal_column_with_nulls_is_averaged_and_typed_as_decimal(tmp_path: Path) -> None:
    specs = [
        expectation(TYPES, column="amount", type_list=["Decimal"]),
        expectation("expect_column_sum_to_be_between", column="amount", min_value=60, max_value=60),
    ]  # fmt: skip
    judgement = judge_batch(ROWS, suite_contract(tmp_path, specs))
    assert judgement is not None and judgement.success, judgement.summary


def test_only_the_referenced_columns_are_read(tmp_path: Path) -> None:
    contract = suite_contract(tmp_path, [expectation(MEAN, column="amount", min_value=0)])
    assert referenced_columns(contract) == ["amount"]
    table = suite_contract(
        tmp_path, [expectation("expect_table_columns_to_match_set", column_set=[])]
    )
    assert referenced_columns(table) == list(COLUMNS)
    judgement = judge_batch(ROWS.select("amount"), contract)
    assert judgement is not None and judgement.success


def test_row_results_join_the_summary(tmp_path: Path) -> None:
    specs = [
        expectation("expect_column_values_to_not_be_null", column="status"),
        expectation(ROW_COUNT, min_value=1),
    ]
    contract = suite_contract(tmp_path, specs)
    judgement = judge_batch(ROWS, contract)
    assert judgement is not None
    summary = with_row_results(
        judgement.summary, contract, {"status.expect_column_values_to_not_be_null": 2}, 10
    )
    assert summary is not None
    row, batch = summary["results"]
    assert row["scope"] == "row" and row["evaluated_by"] == "tidegate"
    assert row["unexpected_count"] == 2 and row["unexpected_percent"] == 20.0
    assert not row["success"] and batch["success"]
    assert summary["success"] is False and summary["evaluated"] == 2
    assert summary["held"] is False  # row failures are quarantined, the batch is not held


def test_a_run_without_a_suite_never_imports_gx(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "a.csv").write_text("id,amount\n1,10\n2,20\n")
    script = (
        "import sys, tidegate\n"
        "c = tidegate.contract_from_dict({'source': 's', 'version': 1, 'columns': "
        "{'id': {'type': 'int64'}, 'amount': {'type': 'decimal(8,2)'}}})\n"
        f"r = tidegate.Pipeline({str(tmp_path / 'a.csv')!r}, c, {str(tmp_path / 't.duckdb')!r})"
        ".run()\n"
        "assert r.loaded == 2, r\n"
        "print('great_expectations' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_failed_summary_renders_in_the_data_docs_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import html
    from datetime import UTC, datetime

    from tidegate.audit._data_docs import BatchValidation, build_data_docs

    specs = [
        expectation(DISTINCT, column="email", value_set=["ann@example.com"]),
        expectation(ROW_COUNT, min_value=10),
    ]
    contract = suite_contract(tmp_path, specs)
    judgement = judge_batch(ROWS, contract)
    assert judgement is not None
    summary = with_row_results(judgement.summary, contract, {}, ROWS.height)
    assert summary is not None
    when = datetime(2026, 12, 1, tzinfo=UTC)
    build_data_docs([BatchValidation("b-1", "orders", "a.csv", when, summary)], tmp_path / "d")
    (page,) = (tmp_path / "d" / "validations").rglob("*.html")
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert "b***@e***.org" in text and "bob@example.org" not in text
    assert "Unexpected Value" in text  # the unexpected values' table rendered
    assert "Failed" in text
    said = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "unexpected Exception" not in said  # GX rendered every result it was given
