"""Properties over arbitrary messy batches: shape is kept, and normalizing is idempotent."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalize._support import col, contract, raw
from tidegate.batches import RECORD_COLUMN
from tidegate.normalize import describe_rules, normalize

CONTRACT = contract(
    col("order_id", "int64"),
    col("status", normalize={"lower": True, "map": {"canceled": "cancelled"}}),
    col("amount", "decimal(12,2)", normalize={"strip": ("$", ",")}),
    col("ratio", "float64", normalize={"null_values": ("NaN?",)}),
    col("order_date", "date", formats=("%Y-%m-%d", "%d/%m/%Y", "%b %d %Y")),
    col("created", "datetime"),
    col("paid", "bool"),
    col("note", normalize={"trim": False, "upper": True}),
    rename={"OrderID": "order_id"},
    null_values=("", "N/A", "null", "-"),
)

HEADER_VARIANTS = {
    "order_id": ["order_id", "OrderID", " Order ID ", "ORDER-ID"],
    "status": ["status", "Status", "STATUS "],
    "amount": ["amount", "Amount"],
    "ratio": ["ratio", "RATIO"],
    "order_date": ["order_date", "Order Date", "orderDate"],
    "created": ["created", "Created"],
    "paid": ["paid", "PAID"],
    "note": ["note", "Note"],
}

MESSY = [
    "",
    " ",
    "\u00a0",
    "-",
    "N/A",
    "n/a",
    "NULL",
    "null",
    "None",
    "NaN?",
    "$",
    "$-",
    "12",
    "+3",
    " 1,234 ",
    "$1,234.50",
    "(12.50)",
    "1 234",
    "1_000",
    "1,23",
    "abc",
    "yes",
    "No",
    "Y",
    "0",
    "TRUE",
    "2024-03-05",
    "05/03/2024",
    "Mar 05 2024",
    "2024-3-5",
    "2024-03-05T10:00:00Z",
    "2024-03-05 10:00:00+02:00",
    "2024-03-05T10:00:00.123456",
    "Canceled",
    " canceled ",
    "cancelled",
    "\tShipped\t",
]

cell = st.one_of(st.none(), st.sampled_from(MESSY), st.text(max_size=12))


@st.composite
def raw_frames(draw: st.DrawFn) -> pl.DataFrame:
    height = draw(st.integers(min_value=0, max_value=20))
    names = draw(st.permutations(list(HEADER_VARIANTS)))
    kept = [n for n in names if draw(st.booleans()) or n == "order_id"]
    data: dict[str, list[str | None]] = {}
    for name in kept:
        header = draw(st.sampled_from(HEADER_VARIANTS[name]))
        data[header] = draw(st.lists(cell, min_size=height, max_size=height))
    if draw(st.booleans()):
        data["unexpected"] = draw(st.lists(cell, min_size=height, max_size=height))
    frame = raw(data, first_record=draw(st.integers(min_value=1, max_value=1000)))
    return frame.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 2**16)))


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(raw_frames())
def test_shape_order_and_types_are_kept(frame: pl.DataFrame) -> None:
    batch = normalize(frame, CONTRACT)
    assert batch.frame.height == frame.height
    assert batch.frame.columns == [*CONTRACT.column_names, RECORD_COLUMN]
    assert batch.frame.get_column(RECORD_COLUMN).to_list() == (
        frame.get_column(RECORD_COLUMN).to_list()
    )
    assert all(batch.frame.schema[name] == pl.String for name in CONTRACT.column_names)
    assert set(batch.rule_counts) <= set(describe_rules(CONTRACT))
    value_counts = {k: n for k, n in batch.rule_counts.items() if k != "_header.rename"}
    assert all(0 < n <= frame.height for n in value_counts.values())
    assert batch.rule_counts.get("_header.rename", 0) <= len(batch.header_map)
    for name in batch.missing_columns:
        assert batch.frame.get_column(name).null_count() == frame.height


@PROPERTY_SETTINGS
@given(raw_frames())
def test_normalizing_twice_changes_nothing(frame: pl.DataFrame) -> None:
    once = normalize(frame, CONTRACT)
    twice = normalize(once.frame, CONTRACT)
    assert twice.rule_counts == {}
    assert twice.frame.equals(once.frame)
    assert twice.header_map == {name: name for name in CONTRACT.column_names}
    assert twice.unknown_columns == ()
    assert twice.missing_columns == ()
