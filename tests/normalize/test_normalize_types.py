"""Type canonicalization: numbers, booleans, dates, datetimes."""

from __future__ import annotations

import polars as pl
import pytest

from normalize._support import col, contract, raw, values
from tidegate.normalize import NUMBER_PATTERN, canonical_number, normalize


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("$1,234.50", "1234.50"),
        ("(12.50)", "-12.50"),
        ("($1,000)", "-1000"),
        ("1 234", "1234"),
        ("1\u00a0234\u00a0567", "1234567"),
        ("1_000_000", "1000000"),
        ("+3", "3"),
        ("-€12", "-12"),
        ("£ 5.5", "5.5"),
        ("¥1,000", "1000"),
        ("1e3", "1e3"),
        ("12", "12"),
        ("-0.5", "-0.5"),
        # not numbers afterwards: left exactly as they were for validation to flag
        ("abc", "abc"),
        ("1,23", "1,23"),  # not a thousands grouping
        ("1,234 567", "1,234 567"),  # mixed separators
        ("12,34,567", "12,34,567"),
        ("(-12)", "(-12)"),
        ("$", "$"),
        ("1.234,50", "1.234,50"),  # decimal comma is not guessed
    ],
)
def test_canonical_number(given: str, expected: str) -> None:
    df = pl.DataFrame({"v": [given]})
    assert df.select(canonical_number(pl.col("v"))).item() == expected


def test_canonical_numbers_match_the_number_pattern() -> None:
    df = pl.DataFrame({"v": ["$1,234.50", "(12.50)", "+7", "1 234"]})
    out = df.select(canonical_number(pl.col("v")).str.contains(NUMBER_PATTERN)).to_series()
    assert out.all()


@pytest.mark.parametrize("type_", ["int64", "float64", "decimal(12,2)"])
def test_number_counts(type_: str) -> None:
    c = contract(col("n", type_), null_values=("", "-"))
    frame = raw({"n": ["$1,234.50", "(12.50)", "1 234", "abc", " 12 ", "12", "-", None]})
    batch = normalize(frame, c)
    assert values(batch, "n") == ["1234.50", "-12.50", "1234", "abc", "12", "12", None, None]
    assert batch.rule_counts == {"n.trim": 1, "n.null_token": 1, "n.number_format": 3}


def test_booleans_with_default_values() -> None:
    c = contract(col("paid", "bool"))
    given = ["yes", "no", "Y", "N", "1", "0", "true", "false", "TRUE", "f", "maybe", "", None]
    batch = normalize(raw({"paid": given}), c)
    assert values(batch, "paid") == [
        "true",
        "false",
        "true",
        "false",
        "true",
        "false",
        "true",
        "false",
        "true",
        "false",
        "maybe",
        None,
        None,
    ]
    # "true" and "false" were already canonical: not counted
    assert batch.rule_counts == {"paid.null_token": 1, "paid.bool_format": 8}


def test_booleans_with_declared_values() -> None:
    c = contract(col("ok", "bool", true_values=("Oui",), false_values=("Non",)))
    batch = normalize(raw({"ok": ["oui", "NON", "yes", "true"]}), c)
    assert values(batch, "ok") == ["true", "false", "yes", "true"]
    assert batch.rule_counts == {"ok.bool_format": 2}


def test_dates_in_several_formats() -> None:
    c = contract(col("d", "date", formats=("%Y-%m-%d", "%d/%m/%Y", "%b %d %Y")))
    given = ["2024-03-05", "05/03/2024", "Mar 05 2024", "2024-3-5", "2024-02-30", "soon", None]
    batch = normalize(raw({"d": given}), c)
    assert values(batch, "d") == [
        "2024-03-05",
        "2024-03-05",
        "2024-03-05",
        "2024-03-05",
        "2024-02-30",  # not a date: stays for validation
        "soon",
        None,
    ]
    assert batch.rule_counts == {"d.date_format": 3}


def test_date_formats_are_tried_in_order() -> None:
    first_us = contract(col("d", "date", formats=("%m/%d/%Y", "%d/%m/%Y")))
    first_eu = contract(col("d", "date", formats=("%d/%m/%Y", "%m/%d/%Y")))
    frame = raw({"d": ["05/03/2024", "25/03/2024"]})
    assert values(normalize(frame, first_us), "d") == ["2024-05-03", "2024-03-25"]
    assert values(normalize(frame, first_eu), "d") == ["2024-03-05", "2024-03-25"]


def test_date_default_format_is_iso_only() -> None:
    batch = normalize(raw({"d": ["2024-03-05", "05/03/2024"]}), contract(col("d", "date")))
    assert values(batch, "d") == ["2024-03-05", "05/03/2024"]
    assert batch.rule_counts == {}


def test_datetimes_to_naive_utc() -> None:
    c = contract(col("ts", "datetime"))
    given = [
        "2024-03-05T10:00:00",
        "2024-03-05 10:00:00",
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:00+02:00",
        "2024-03-05T23:30:00-02:00",
        "2024-03-05 10:00:00.5+0100",
        "2024-03-05T10:00:00.123456",
        "2024-03-05T10:00:00.000000",
        "yesterday",
        None,
    ]
    batch = normalize(raw({"ts": given}), c)
    assert values(batch, "ts") == [
        "2024-03-05T10:00:00.000000",
        "2024-03-05T10:00:00.000000",
        "2024-03-05T10:00:00.000000",
        "2024-03-05T08:00:00.000000",
        "2024-03-06T01:30:00.000000",
        "2024-03-05T09:00:00.500000",
        "2024-03-05T10:00:00.123456",
        "2024-03-05T10:00:00.000000",
        "yesterday",
        None,
    ]
    assert batch.rule_counts == {"ts.datetime_format": 6}  # the last two were canonical


def test_datetime_declared_formats_come_first() -> None:
    c = contract(col("ts", "datetime", formats=("%d/%m/%Y %H:%M",)))
    batch = normalize(raw({"ts": ["05/03/2024 14:30", "2024-03-05T14:30:00Z"]}), c)
    assert values(batch, "ts") == ["2024-03-05T14:30:00.000000", "2024-03-05T14:30:00.000000"]


def test_string_columns_get_no_type_rule() -> None:
    c = contract(col("s"))
    batch = normalize(raw({"s": ["$1,234", "Y", "05/03/2024"]}), c)
    assert values(batch, "s") == ["$1,234", "Y", "05/03/2024"]
    assert batch.rule_counts == {}
