"""One messy orders batch end to end: every rule's exact count, shape, describe_rules."""

from __future__ import annotations

import polars as pl

from normalize._support import col, contract, raw
from tidegate.batches import RECORD_COLUMN
from tidegate.normalize import NormalizedBatch, describe_rules, normalize

ORDERS = contract(
    col("order_id", "int64"),
    col("status", normalize={"lower": True, "map": {"canceled": "cancelled"}}),
    col("amount", "decimal(12,2)", normalize={"strip": ("$", ",")}),
    col("order_date", "date", formats=("%Y-%m-%d", "%d/%m/%Y", "%b %d %Y")),
    col("paid", "bool"),
    col("email", aliases=("e-mail",)),
    rename={"OrderID": "order_id"},
    null_values=("", "N/A", "null", "-"),
)

FRAME = raw(
    {
        "OrderID": [" 1", "2", "+3", "N/A", "1,000"],
        "Status": ["Shipped", "canceled", " CANCELED ", "pending", "null"],
        "amount": ["$1,234.50", "12", "(3.00)", "-", " $ 7 "],
        "order_date": ["2024-03-05", "05/03/2024", "Mar 05 2024", "", "bad"],
        "paid": ["yes", "N", "true", "maybe", ""],
        "E-Mail": ["a@b.c", " x@y.z", "", "NULL", "q@r.s"],
        "notes": ["n1", "n2", "n3", "n4", "n5"],
    },
    first_record=10,
)


def test_orders_batch_values_and_counts() -> None:
    batch = normalize(FRAME, ORDERS)
    assert isinstance(batch, NormalizedBatch)
    assert batch.frame.to_dict(as_series=False) == {
        "order_id": ["1", "2", "3", None, "1000"],
        "status": ["shipped", "cancelled", "cancelled", "pending", None],
        "amount": ["1234.50", "12", "-3.00", None, "7"],
        "order_date": ["2024-03-05", "2024-03-05", "2024-03-05", None, "bad"],
        "paid": ["true", "false", "true", "maybe", None],
        "email": ["a@b.c", "x@y.z", None, None, "q@r.s"],
        RECORD_COLUMN: [10, 11, 12, 13, 14],
    }
    assert batch.rule_counts == {
        "_header.rename": 3,  # OrderID, Status, E-Mail
        "order_id.trim": 1,
        "order_id.null_token": 1,
        "order_id.number_format": 2,  # +3, 1,000
        "status.trim": 1,
        "status.null_token": 1,
        "status.lower": 2,  # Shipped, CANCELED
        "status.map": 2,
        "amount.trim": 1,
        "amount.null_token": 1,
        "amount.strip": 2,  # $1,234.50 and $ 7 (trimmed again)
        "amount.number_format": 1,  # (3.00)
        "order_date.null_token": 1,
        "order_date.date_format": 2,
        "paid.null_token": 1,
        "paid.bool_format": 2,  # yes, N ("true" already canonical)
        "email.trim": 1,
        "email.null_token": 2,
    }
    assert batch.header_map == {
        "OrderID": "order_id",
        "Status": "status",
        "amount": "amount",
        "order_date": "order_date",
        "paid": "paid",
        "E-Mail": "email",
    }
    assert batch.unknown_columns == ("notes",)
    assert batch.missing_columns == ()


def test_counted_rules_are_described() -> None:
    batch = normalize(FRAME, ORDERS)
    assert set(batch.rule_counts) <= set(describe_rules(ORDERS))


def test_describe_rules() -> None:
    assert describe_rules(ORDERS) == [
        "_header.rename",
        "order_id.trim",
        "order_id.null_token",
        "order_id.number_format",
        "status.trim",
        "status.null_token",
        "status.lower",
        "status.map",
        "amount.trim",
        "amount.null_token",
        "amount.strip",
        "amount.number_format",
        "order_date.trim",
        "order_date.null_token",
        "order_date.date_format",
        "paid.trim",
        "paid.null_token",
        "paid.bool_format",
        "email.trim",
        "email.null_token",
    ]
    bare = contract(col("s", normalize={"trim": False}), trim=True, null_values=())
    assert describe_rules(bare) == ["_header.rename"]


def test_empty_batch() -> None:
    empty = FRAME.clear()
    batch = normalize(empty, ORDERS)
    assert batch.frame.height == 0
    assert batch.frame.columns == [*ORDERS.column_names, RECORD_COLUMN]
    assert all(dtype == pl.String for dtype in batch.frame.drop(RECORD_COLUMN).dtypes)
    assert batch.rule_counts == {"_header.rename": 3}


def test_input_frame_is_not_modified() -> None:
    before = FRAME.clone()
    normalize(FRAME, ORDERS)
    assert FRAME.equals(before)
