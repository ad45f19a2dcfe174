from __future__ import annotations

import polars as pl
import pytest

from normalize._support import col, contract, raw, values
from tidegate.batches import RECORD_COLUMN
from tidegate.errors import ContractError
from tidegate.normalize import fold_header, match_headers, normalize

ORDERS = contract(
    col("order_id", "int64"),
    col("status", aliases=("state", "order status")),
    col("amount", "float64"),
    rename={"OrderID": "order_id", "Total (USD)": "amount"},
)


@pytest.mark.parametrize(
    ("header", "folded"),
    [
        (" Order ID ", "orderid"),
        ("order_id", "orderid"),
        ("ORDER-ID", "orderid"),
        ("OrderID", "orderid"),
        ("\ufefforder_id", "orderid"),
        ("order\u00a0id", "orderid"),
    ],
)
def test_fold_header(header: str, folded: str) -> None:
    assert fold_header(header) == folded


@pytest.mark.parametrize(
    "header", ["order_id", " Order ID ", "ORDER-ID", "OrderId", "OrderID", "order__id"]
)
def test_header_variants_feed_the_column(header: str) -> None:
    batch = normalize(raw({header: ["1"], "status": ["x"], "amount": ["2"]}), ORDERS)
    assert batch.header_map[header] == "order_id"
    assert values(batch, "order_id") == ["1"]
    assert batch.rule_counts.get("_header.rename", 0) == (header != "order_id")
    assert batch.unknown_columns == ()
    assert batch.missing_columns == ()


def test_alias_and_rename() -> None:
    batch = normalize(raw({"Order Status": ["new"], "total (usd)": ["5"]}), ORDERS)
    assert batch.header_map == {"Order Status": "status", "total (usd)": "amount"}
    assert batch.rule_counts["_header.rename"] == 2
    assert values(batch, "status") == ["new"]
    assert values(batch, "amount") == ["5"]


def test_rename_beats_alias_beats_name() -> None:
    c = contract(
        col("a", aliases=("x",)),
        col("b", aliases=("y",)),
        col("x"),
        rename={"y": "a"},
    )
    m = match_headers(["Y", "X", "b"], c)
    # "Y" matches a rename key (to a) before b's alias; "X" is a's alias before column x.
    assert m.header_map == {"Y": "a", "b": "b"}
    assert m.unknown_columns == ("X",)  # a was already fed by "Y"
    assert m.missing_columns == ("x",)


def test_duplicate_header_goes_to_unknown_and_missing_filled_null() -> None:
    frame = raw({"order_id": ["1", "2"], "Order ID": ["9", "9"], "extra": ["e", "f"]})
    batch = normalize(frame, ORDERS)
    assert batch.header_map == {"order_id": "order_id"}
    assert batch.unknown_columns == ("Order ID", "extra")
    assert batch.missing_columns == ("status", "amount")
    assert values(batch, "order_id") == ["1", "2"]
    assert values(batch, "status") == [None, None]
    assert values(batch, "amount") == [None, None]
    assert batch.frame.columns == ["order_id", "status", "amount", RECORD_COLUMN]
    assert "_header.rename" not in batch.rule_counts


def test_column_order_follows_contract_not_file() -> None:
    frame = raw({"amount": ["3"], "STATUS": ["s"], "OrderID": ["1"]})
    batch = normalize(frame, ORDERS)
    assert batch.frame.columns == ["order_id", "status", "amount", RECORD_COLUMN]
    assert batch.frame.row(0) == ("1", "s", "3", 2)
    assert batch.rule_counts == {"_header.rename": 2}


def test_non_string_input_columns_are_cast() -> None:
    frame = pl.DataFrame(
        {"order_id": [None, None], RECORD_COLUMN: [1, 2]},
        schema={"order_id": pl.Null, RECORD_COLUMN: pl.Int64},
    )
    batch = normalize(frame, ORDERS)
    assert batch.frame.schema["order_id"] == pl.String
    assert values(batch, "order_id") == [None, None]


def test_rename_to_unknown_column_is_a_contract_error() -> None:
    c = contract(col("a"), rename={"b": "nope"})
    with pytest.raises(ContractError, match=r"normalize\.rename\.b"):
        normalize(raw({"a": ["1"]}), c)


def test_missing_record_column_is_refused() -> None:
    with pytest.raises(ValueError, match=RECORD_COLUMN):
        normalize(pl.DataFrame({"order_id": ["1"]}), ORDERS)
