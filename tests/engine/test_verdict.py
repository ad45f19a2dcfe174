"""``contract.validate(frame)``: the engine's verdict on a frame, with no store."""

from __future__ import annotations

import polars as pl
import pytest

from helpers import make_contract, suite_contract
from tidegate import RawBatch, Verdict

ROW = {
    "order_id": "1",
    "status": "shipped",
    "amount": "10.00",
    "order_date": "2024-01-02",
}


def test_a_frame_splits_into_valid_rows_quarantine_and_duplicates() -> None:
    contract = make_contract()
    frame = pl.DataFrame(
        [ROW, {**ROW, "order_id": "2", "amount": "-1"}, ROW, {**ROW, "order_id": "3"}]
    )
    verdict = contract.validate(frame)
    assert isinstance(verdict, Verdict)
    assert (verdict.rows_in, verdict.passed, verdict.quarantined, verdict.duplicates) == (
        4,
        2,
        1,
        1,
    )
    assert verdict.valid["order_id"].to_list() == [1, 3]
    assert verdict.valid.schema["order_id"] == pl.Int64
    assert "_tidegate_record" not in verdict.valid.columns
    (bad,) = verdict.quarantine.to_dicts()
    assert bad["record"] == 2 and bad["rules"] == "amount.ge"
    assert verdict.failure_counts == {"amount.ge": 1}
    assert not verdict.ok and verdict.held is None


def test_typed_lazy_and_list_inputs_are_judged_as_their_text() -> None:
    contract = make_contract()
    typed = pl.DataFrame(
        {"order_id": [1, 2], "status": ["shipped", "pending"], "amount": [10.5, 3.0]}
    ).with_columns(order_date=pl.date(2024, 1, 2))
    for given in (typed, typed.lazy(), typed.to_dicts()):
        verdict = contract.validate(given)
        assert (verdict.passed, verdict.quarantined) == (2, 0), verdict.quarantine
        assert verdict.ok


def test_a_frame_over_the_threshold_is_held_and_nothing_is_valid() -> None:
    contract = make_contract(
        policy={
            "on_row_failure": "quarantine",
            "on_existing_key": "update",
            "max_quarantine_ratio": 0.1,
        }
    )
    verdict = contract.validate([ROW, {**ROW, "order_id": "x"}])
    assert verdict.held and "max_quarantine_ratio" in verdict.held
    assert verdict.passed == 0 and verdict.quarantined == 2
    assert "held=" in repr(verdict)


def test_a_nested_column_is_refused_with_its_name() -> None:
    with pytest.raises(TypeError, match="'tags'"):
        RawBatch.from_frame("orders", pl.DataFrame({"tags": [["a"], ["b"]]}))


def test_the_same_rows_make_the_same_batch_key() -> None:
    a = RawBatch.from_frame("orders", [ROW])
    b = RawBatch.from_frame("orders", pl.DataFrame([ROW]))
    c = RawBatch.from_frame("orders", [{**ROW, "order_id": "2"}])
    assert a.content_sha256 == b.content_sha256 != c.content_sha256
    assert a.frame["_tidegate_record"].to_list() == [1]


def test_a_verdict_carries_the_suite_summary_and_its_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``contract.validate`` under a GX suite: row expectations quarantine, a failed
    batch expectation under ``warn`` is a warning, and the summary has both."""
    expectations = [
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "status", "value_set": ["shipped"]},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 5}},
    ]
    columns = {"order_id": {"type": "int64"}, "status": {"type": "string"}}
    contract = suite_contract(tmp_path, columns, expectations, on_batch_failure="warn")
    rows = [{"order_id": str(i), "status": s} for i, s in enumerate(["shipped", "lost", "shipped"])]
    verdict = contract.validate(rows)
    assert (verdict.passed, verdict.quarantined, verdict.held) == (2, 1, None)
    assert verdict.quarantine["rules"].to_list() == ["status.expect_column_values_to_be_in_set"]
    assert verdict.expectations is not None
    results = {r["rule"]: r for r in verdict.expectations["results"]}
    assert results["status.expect_column_values_to_be_in_set"]["unexpected_count"] == 1
    count = results["_batch.expect_table_row_count_to_be_between"]
    assert (count["success"], count["observed_value"]) == (False, 2)
    (warning,) = verdict.warnings
    assert "_batch.expect_table_row_count_to_be_between" in warning and "warn" in warning
