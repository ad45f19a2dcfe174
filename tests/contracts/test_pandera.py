"""Compiling a contract to pandera: every failed rule of every row is reported."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from tidegate.contracts import (
    Contract,
    contract_from_dict,
    polars_dtype,
    tidegate_rule_id,
    to_pandera_schema,
    to_pandera_schemas,
    with_rule_ids,
)
from tidegate.errors import ContractError


class OrdersModel(pa.DataFrameModel):
    """Checks YAML cannot say: a cross-column rule written in Python."""

    amount: float = pa.Field(nullable=True)

    @pa.dataframe_check(name="amount_not_42")
    @classmethod
    def amount_not_42(cls, data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("amount").ne(42.0).fill_null(True))


CONTRACT: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "primary_key": ["order_id"],
    "columns": {
        "order_id": {"type": "int64", "unique": True},
        "code": {"type": "string", "nullable": False, "unique": True},
        "status": {"type": "string", "checks": [{"isin": ["new", "paid"]}]},
        "amount": {
            "type": "decimal(12,2)",
            "checks": [{"ge": 0}, {"le": 100}, {"between": [-5, 50], "name": "usual"}],
        },
        "email": {
            "type": "string",
            "checks": [{"regex": "^[^@]+@[^@]+$"}, {"str_length": {"min": 5, "max": 10}}],
        },
        "day": {"type": "date", "checks": [{"ge": "2020-01-01"}, {"notin": ["2021-01-01"]}]},
        "at": {"type": "datetime", "checks": [{"lt": dt.datetime(2030, 1, 1)}]},
        "paid": {"type": "bool", "checks": [{"isin": [True]}]},
        "total": {
            "type": "float64",
            "checks": [{"gt": 0}, {"expr": "total >= amount", "name": "covers"}],
        },
    },
}


def contract(**changes: Any) -> Contract:
    return contract_from_dict({**CONTRACT, **changes})


def typed_frame(rows: list[dict[str, Any]], c: Contract) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={col.name: polars_dtype(col) for col in c.columns})


GOOD = {
    "order_id": 1,
    "code": "A",
    "status": "new",
    "amount": Decimal("10.00"),
    "email": "a@b.c",
    "day": dt.date(2024, 1, 1),
    "at": dt.datetime(2024, 1, 1, 12),
    "paid": True,
    "total": 20.0,
}


def failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> set[tuple[int | None, str]]:
    with pytest.raises(SchemaErrors) as info:
        schema.validate(frame, lazy=True)
    fc = info.value.failure_cases
    assert fc.columns == [
        "failure_case",
        "schema_context",
        "column",
        "check",
        "check_number",
        "index",
    ]
    rules = with_rule_ids(fc)["rule"].to_list()
    assert rules == [tidegate_rule_id(r) for r in fc.iter_rows(named=True)]
    return set(zip(fc["index"].to_list(), rules, strict=True))


def test_good_frame_passes() -> None:
    c = contract()
    frame = typed_frame([GOOD, {**GOOD, "order_id": 2, "code": "B"}], c)
    assert to_pandera_schema(c).validate(frame).height == 2


def test_every_failed_rule_of_every_row_is_reported() -> None:
    c = contract()
    bad = {
        "order_id": 1,  # duplicate of row 0
        "code": "A",  # duplicate of row 0
        "status": "lost",
        "amount": Decimal("-10.00"),  # ge, between
        "email": "no-at-sign-here",  # regex, str_length
        "day": dt.date(2021, 1, 1),  # notin
        "at": dt.datetime(2031, 1, 1),
        "paid": False,
        "total": -20.0,  # gt; -20 < -10 so covers fails too
    }
    also_bad = {**GOOD, "order_id": 3, "code": "C", "amount": Decimal("101.00"), "total": 5.0}
    frame = typed_frame([GOOD, bad, also_bad], c)
    got = failures(to_pandera_schema(c), frame)
    assert got == {
        (0, "order_id.unique"),
        (1, "order_id.unique"),
        (0, "code.unique"),
        (1, "code.unique"),
        (1, "status.isin"),
        (1, "amount.ge"),
        (1, "amount.between.usual"),
        (1, "email.regex"),
        (1, "email.str_length"),
        (1, "day.notin"),
        (1, "at.lt"),
        (1, "paid.isin"),
        (1, "total.gt"),
        (1, "total.expr.covers"),
        (2, "amount.le"),
        (2, "amount.between.usual"),
        (2, "total.expr.covers"),
    }


def test_failure_case_is_the_column_value_and_check_is_the_rule_id() -> None:
    c = contract()
    frame = typed_frame([GOOD, {**GOOD, "order_id": 2, "code": "B", "email": "x"}], c)
    with pytest.raises(SchemaErrors) as info:
        to_pandera_schema(c).validate(frame, lazy=True)
    rows = info.value.failure_cases.sort("check").to_dicts()
    assert rows == [
        {
            "failure_case": "x",
            "schema_context": "Column",
            "column": "email",
            "check": "email.regex",
            "check_number": 0,
            "index": 1,
        },
        {
            "failure_case": "x",
            "schema_context": "Column",
            "column": "email",
            "check": "email.str_length",
            "check_number": 1,
            "index": 1,
        },
    ]


def test_nulls_pass_value_checks_and_are_judged_by_nullable() -> None:
    c = contract()
    nulls = {k: None for k in GOOD} | {"order_id": 2, "code": "B"}
    frame = typed_frame([GOOD, nulls, {**nulls, "order_id": 3, "code": "C"}], c)
    # repeated nulls are not duplicates, nulls pass isin/ge/regex/expr/...
    assert to_pandera_schema(c).validate(frame).height == 3


def test_primary_key_and_non_nullable_columns_refuse_nulls() -> None:
    c = contract()
    assert c.column("order_id").nullable is False
    frame = typed_frame([GOOD, {**GOOD, "order_id": None, "code": None}], c)
    got = failures(to_pandera_schema(c), frame)
    assert got == {(1, "order_id.not_null"), (1, "code.not_null")}


def test_pandera_built_in_names_as_observed() -> None:
    c = contract()
    frame = typed_frame([{**GOOD, "order_id": None}], c).drop("status")
    frame = frame.with_columns(pl.col("total").cast(pl.Int64))
    with pytest.raises(SchemaErrors) as info:
        to_pandera_schema(c).validate(frame, lazy=True)
    fc = with_rule_ids(info.value.failure_cases)
    rows = {
        (r["schema_context"], r["column"], r["check"], r["failure_case"], r["index"], r["rule"])
        for r in fc.iter_rows(named=True)
    }
    assert rows == {
        ("DataFrameSchema", None, "column_in_dataframe", "status", None, "status.missing"),
        ("Column", "order_id", "not_nullable", None, 0, "order_id.not_null"),
        ("Column", "total", "dtype('Float64')", "Int64", None, "total.type"),
    }


def test_schema_settings() -> None:
    schema = to_pandera_schema(contract())
    assert schema.coerce is False
    assert schema.strict is False
    assert list(schema.columns) == list(CONTRACT["columns"])
    assert schema.columns["amount"].dtype.type == pl.Decimal(12, 2)
    assert schema.columns["at"].dtype.type == pl.Datetime("us")


def test_model_reference_adds_its_schema() -> None:
    c = contract(model=f"{__name__}:OrdersModel")
    schemas = to_pandera_schemas(c)
    assert len(schemas) == 2
    assert len(to_pandera_schemas(contract())) == 1
    frame = typed_frame([GOOD], c).with_columns(amount=pl.lit(42.0))
    with pytest.raises(SchemaErrors) as info:
        schemas[1].validate(frame, lazy=True)
    fc = with_rule_ids(info.value.failure_cases)
    assert fc.select("check", "index", "rule").rows() == [
        ("amount_not_42", 0, "_row.amount_not_42")
    ]


def test_model_must_be_a_dataframe_model() -> None:
    with pytest.raises(ContractError, match="DataFrameModel"):
        contract(model=f"{__name__}:GOOD")


def test_more_check_kinds_on_more_types() -> None:
    c = contract_from_dict(
        {
            "source": "s",
            "version": 1,
            "columns": {
                "d": {"type": "decimal(6,2)", "checks": [{"isin": [0.1, 2]}, {"notin": [5]}]},
                "i": {"type": "int", "checks": [{"between": [1, 3]}, {"isin": [1, 2]}]},
                "s": {"type": "str", "checks": [{"str_length": {"max": 2}}, {"notin": ["zz"]}]},
                "f": {"type": "float", "checks": [{"isin": [1, 2.5]}, {"lt": 2.5}]},
                "t": {"type": "datetime", "checks": [{"ge": "2020-01-01"}, {"le": "2030-01-01"}]},
            },
        }
    )
    frame = typed_frame(
        [
            {"d": Decimal("0.10"), "i": 1, "s": "ab", "f": 1.0, "t": dt.datetime(2020, 1, 1)},
            {"d": Decimal("5.00"), "i": 4, "s": "zz", "f": 2.5, "t": dt.datetime(2019, 1, 1)},
            {"d": Decimal("2"), "i": 3, "s": "abc", "f": 2.0, "t": dt.datetime(2031, 1, 1)},
        ],
        c,
    )
    assert failures(to_pandera_schema(c), frame) == {
        (1, "d.isin"),
        (1, "d.notin"),
        (1, "i.between"),
        (1, "i.isin"),
        (1, "s.notin"),
        (1, "f.lt"),
        (1, "t.ge"),
        (2, "i.isin"),
        (2, "s.str_length"),
        (2, "f.isin"),
        (2, "t.le"),
    }
