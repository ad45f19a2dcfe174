from __future__ import annotations

import polars as pl

from helpers import make_contract
from tidegate.validate import validate


def _frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = ["order_id", "status", "amount", "order_date"]
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in cols}, schema={c: pl.String for c in cols}
    ).with_columns(pl.int_range(2, len(rows) + 2, dtype=pl.Int64).alias("_tidegate_record"))


def _failures(v) -> set[tuple[int, str, str | None]]:  # type: ignore[no-untyped-def]
    return {
        (r, rule, value)
        for r, rule, value in v.failures.select("_row", "rule", "value").iter_rows()
    }


def test_every_failed_rule_of_every_row_is_reported() -> None:
    contract = make_contract()
    v = validate(
        _frame(
            [
                {
                    "order_id": "1",
                    "status": "shipped",
                    "amount": "10.00",
                    "order_date": "2024-01-05",
                },
                {"order_id": "2", "status": "lost", "amount": "-3", "order_date": "2024-01-05"},
                {"order_id": "x", "status": "pending", "amount": "abc", "order_date": "2024-02-30"},
                {"order_id": None, "status": "weird", "amount": None, "order_date": None},
            ]
        ),
        contract,
    )
    assert _failures(v) == {
        (1, "status.isin", "lost"),
        (1, "amount.ge", "-3.00"),
        (2, "order_id.type", "x"),
        (2, "amount.type", "abc"),
        (2, "order_date.type", "2024-02-30"),
        (3, "order_id.not_null", None),
        (3, "status.isin", "weird"),
    }
    assert v.failing_rows.to_list() == [1, 2, 3]
    assert v.rule_counts()["status.isin"] == 2
    assert v.typed.schema["amount"] == pl.Decimal(12, 2)
    assert v.typed.schema["order_date"] == pl.Date


def test_cast_failure_is_not_also_reported_as_missing() -> None:
    v = validate(
        _frame([{"order_id": "x", "status": "shipped", "amount": "1", "order_date": None}]),
        make_contract(),
    )
    assert [r for r in v.failures["rule"]] == ["order_id.type"]


def test_too_many_decimal_places_is_a_type_failure_not_a_silent_truncation() -> None:
    v = validate(
        _frame([{"order_id": "1", "status": "shipped", "amount": "1.239", "order_date": None}]),
        make_contract(),
    )
    assert v.failures["rule"].to_list() == ["amount.type"]


def test_messages_name_the_rule() -> None:
    v = validate(
        _frame([{"order_id": "1", "status": "shipped", "amount": "-1", "order_date": None}]),
        make_contract(),
    )
    assert v.failures["message"].to_list() == ["must be >= 0"]


def test_clean_batch_has_no_failures() -> None:
    v = validate(
        _frame([{"order_id": "1", "status": "pending", "amount": "0", "order_date": "2024-01-01"}]),
        make_contract(),
    )
    assert v.failures.is_empty() and v.rule_counts() == {}


def test_a_contract_model_adds_checks_yaml_cannot_say() -> None:
    contract = make_contract(model="helpers:OrdersModel")
    v = validate(
        _frame(
            [
                {"order_id": "1", "status": "shipped", "amount": None, "order_date": None},
                {"order_id": "2", "status": "pending", "amount": None, "order_date": None},
            ]
        ),
        contract,
    )
    assert v.failures.select("_row", "rule").rows() == [(0, "_row.shipped_needs_amount")]
