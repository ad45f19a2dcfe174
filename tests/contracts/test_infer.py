"""Inferring a starter contract from raw string columns."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidegate.contracts import Contract, contract_from_dict, infer_contract, load_contract
from tidegate.contracts._infer import snake_case
from tidegate.errors import ContractError

MESSY = pl.DataFrame(
    {
        "OrderID": ["1", "2", "3", "4"],
        "order id": ["a", "b", "c", "d"],
        "Status": ["new", "PAID", " new ", "N/A"],
        "Amount": ["1.5", "2", "3e2", "-"],
        "Paid": ["yes", "no", "Y", "n"],
        "flag": ["0", "1", "1", "0"],
        "Order Date": ["2024-01-31", "31/01/2024", "Jan 05 2024", "01/02/2024"],
        "created": ["2024-01-01 10:00:00", "2024-01-01T10:00:00", "2024-01-02 10:00", "null"],
        "2019 Sales": ["", "", "", ""],
        "zip": ["00123", "01234", "12345", "12345"],
        "yes": ["x", "y", "x", "y"],
    }
)


def round_trip(frame: pl.DataFrame, source: str = "orders") -> Contract:
    text = infer_contract(frame, source)
    return contract_from_dict(yaml.safe_load(text))


def test_messy_frame_guesses() -> None:
    c = round_trip(MESSY)
    types = {col.name: col.type for col in c.columns}
    assert types == {
        "order_id": "int64",
        "order_id_2": "string",
        "status": "string",
        "amount": "float64",
        "paid": "bool",
        "flag": "int64",  # only 0/1: int, not bool
        "order_date": "date",
        "created": "datetime",
        "col_2019_sales": "string",
        "zip": "string",  # leading zeros: a code, not a number
        "yes": "string",
    }
    assert c.primary_key == ("order_id",)
    assert c.column("order_id").unique and not c.column("order_id").nullable
    assert c.column("status").nullable and not c.column("status").unique
    # only the primary key is declared unique: a repeated amount or date is no error
    assert c.column("amount").nullable and not c.column("amount").unique
    assert not c.column("paid").nullable and not c.column("paid").unique
    # 31/01/2024 is day first, so 01/02/2024 is read day first too: no %m/%d/%Y
    assert c.column("order_date").formats == ("%d/%m/%Y", "%Y-%m-%d", "%b %d %Y")
    # ISO 8601 with seconds (and fractions, offsets) is always tried: only the rest is declared
    assert c.column("created").formats == ("%Y-%m-%d %H:%M",)
    assert c.normalize.rename == {
        "OrderID": "order_id",
        "order id": "order_id_2",
        "Status": "status",
        "Amount": "amount",
        "Paid": "paid",
        "Order Date": "order_date",
        "2019 Sales": "col_2019_sales",
    }
    assert set(c.normalize.null_values) == {"", "N/A", "-", "null"}
    assert c.normalize.trim is True
    assert c.version == 1
    assert c.policy.on_row_failure == "quarantine"


def test_output_loads_from_a_file_too(tmp_path: Path) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(infer_contract(MESSY, "orders"))
    assert load_contract(path) == dataclasses.replace(round_trip(MESSY), path=str(path))


def test_a_header_already_in_snake_case_keeps_its_name() -> None:
    c = round_trip(pl.DataFrame({"Order ID": ["1"], "order_id": ["2"]}))
    assert c.column_names == ["order_id_2", "order_id"]
    assert c.normalize.rename == {"Order ID": "order_id_2"}


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("OrderID", "order_id"),
        ("order id", "order_id"),
        ("customerName", "customer_name"),
        ("HTTPStatus", "http_status"),
        ("  Café Total (€) ", "cafe_total"),
        ("2019", "col_2019"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(header: str, name: str) -> None:
    assert snake_case(header) == name


def test_empty_header_and_bad_source() -> None:
    c = round_trip(pl.DataFrame({"": ["1"], "!!": ["2"]}))
    assert c.column_names == ["column_1", "column_2"]
    with pytest.raises(ContractError, match="source: 'Bad Source'"):
        infer_contract(MESSY, "Bad Source")


def test_non_string_columns_are_read_as_text() -> None:
    c = round_trip(pl.DataFrame({"n": [1, 2, None]}))
    assert c.column("n").type == "int64" and c.column("n").nullable


null_tokens = st.sampled_from(["", "N/A", "null", "-", "NULL", "  "])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(
    st.lists(
        st.one_of(st.integers(-(2**63), 2**63 - 1).map(str), null_tokens),
        min_size=1,
        max_size=30,
    ).filter(lambda xs: any(x.strip() not in ("", "N/A", "null", "-", "NULL") for x in xs))
)
def test_int_columns_are_int64(values: list[str]) -> None:
    c = round_trip(pl.DataFrame({"n": values}))
    col = c.column("n")
    assert col.type == "int64"
    has_null = any(v.strip() in ("", "N/A", "null", "-", "NULL") for v in values)
    assert col.nullable == has_null


@SLOW
@given(
    st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=30),
    st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%b %d %Y"]),
)
def test_date_columns_are_dates_with_their_format(dates: list[dt.date], fmt: str) -> None:
    c = round_trip(pl.DataFrame({"d": [d.strftime(fmt) for d in dates]}))
    col = c.column("d")
    assert col.type == "date"
    assert fmt in col.formats
    assert not col.unique  # a date is not proposed as a key


@SLOW
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False),  # repr always has "." or "e"
        min_size=1,
        max_size=30,
    )
)
def test_float_columns_are_float64(values: list[float]) -> None:
    assert round_trip(pl.DataFrame({"x": [repr(v) for v in values]})).column("x").type == "float64"


@SLOW
@given(st.lists(st.text(max_size=8), min_size=1, max_size=20), st.text(max_size=12))
def test_any_string_frame_round_trips(values: list[str], header: str) -> None:
    c = round_trip(pl.DataFrame({header: values}))
    assert len(c.columns) == 1


def test_day_month_order_and_tokens_beyond_the_defaults() -> None:
    c = round_trip(
        pl.DataFrame(
            {
                "day_first": ["13/01/2024", "01/02/2024", "2024-03-01"],  # 13: day first
                "both": ["13/01/2024", "01/13/2024", "01/02/2024"],  # needs both orders
                "switch": ["on", "OFF", "on"],
                "bits": ["0", "1", "1"],
            }
        )
    )
    assert c.column("day_first").formats == ("%d/%m/%Y", "%Y-%m-%d")
    assert set(c.column("both").formats) == {"%d/%m/%Y", "%m/%d/%Y"}
    assert c.column("switch").type == "bool"
    assert (c.column("switch").true_values, c.column("switch").false_values) == (("on",), ("off",))
    bits = c.column("bits")
    assert bits.type == "int64" and [(k.kind, k.args) for k in bits.checks] == [
        ("ge", 0),
        ("le", 1),
    ]
    iso = round_trip(pl.DataFrame({"at": ["2024-01-01 10:00:00.123456", "2024-01-02T00:00:00Z"]}))
    assert iso.column("at").type == "datetime" and iso.column("at").formats == ()
    text = infer_contract(pl.DataFrame({"both": ["13/01/2024", "01/13/2024"]}), "s")
    assert "both %d/%m/%Y and %m/%d/%Y are needed" in text
