"""trim, null tokens, lower/upper, map, strip: values and exact counts."""

from __future__ import annotations

import polars as pl
import pytest

from normalize._support import col, contract, raw, values
from tidegate.normalize import normalize, null_tokens, trim


def test_trim_strips_nbsp_tabs_and_newlines() -> None:
    c = contract(col("name"), null_values=())
    frame = raw({"name": ["\u00a0ann\t", " bob ", "cy", "\ufeffdee\u200b", "\r\n", None]})
    batch = normalize(frame, c)
    assert values(batch, "name") == ["ann", "bob", "cy", "dee", "", None]
    assert batch.rule_counts == {"name.trim": 4}


def test_trim_can_be_turned_off_per_column_and_contract_wide() -> None:
    c = contract(col("a", normalize={"trim": False}), col("b"), null_values=())
    batch = normalize(raw({"a": [" x "], "b": [" y "]}), c)
    assert values(batch, "a") == [" x "]
    assert values(batch, "b") == ["y"]
    c = contract(col("a"), col("b", normalize={"trim": True}), trim=False, null_values=())
    batch = normalize(raw({"a": [" x "], "b": [" y "]}), c)
    assert values(batch, "a") == [" x "]
    assert values(batch, "b") == ["y"]
    assert batch.rule_counts == {"b.trim": 1}


def test_null_tokens_after_trim_and_case_insensitive_for_words() -> None:
    c = contract(
        col("a", normalize={"null_values": ("none",)}),
        col("b"),
        null_values=("", "N/A", "null", "-"),
    )
    frame = raw(
        {
            "a": ["", " N/A ", "n/a", "NULL", "Null", "None", "-", "x", None, "nulls"],
            "b": ["none", "-", "", "y", None, "NA", "n/a", "z", "z", "z"],
        }
    )
    batch = normalize(frame, c)
    assert values(batch, "a") == [None] * 7 + ["x", None, "nulls"]
    # the column's own token "none" does not apply to b
    assert values(batch, "b") == ["none", None, None, "y", None, "NA", None, "z", "z", "z"]
    assert batch.rule_counts == {
        "a.trim": 1,
        "a.null_token": 7,  # the value that was null already is not counted
        "b.null_token": 3,
    }


def test_null_token_symbols_match_exactly() -> None:
    df = pl.DataFrame({"v": ["-", "--", " -", "x"]})
    out = df.select(null_tokens(pl.col("v"), ["-"])).to_series().to_list()
    assert out == [None, "--", " -", "x"]


@pytest.mark.parametrize(
    "tokens",
    [
        ("", "N/A", "null", "-"),  # ASCII words: looked up by their case spellings
        ("nil", "k.o."),  # a "k": the Kelvin sign lower-cases to it
        ("néant",),  # a non-ASCII letter
        ("a" * 9,),  # too many spellings to list
    ],
)
def test_null_tokens_match_what_lower_casing_the_value_would(tokens: tuple[str, ...]) -> None:
    """Whether a token's spellings are looked up or the value is lower-cased first, the
    same values are null tokens."""
    cells = ["NULL", "nUlL", "n/A", "N/a ", "nulls", "-", "", "NIL", "\u212a.O.", "K.o.", "k.0."]
    cells += ["NÉANT", "Néant", "neant", "A" * 9, "aAaAaAaAa", "a" * 8, None]
    out = pl.DataFrame({"v": cells}).select(null_tokens(pl.col("v"), tokens)).to_series()
    lowered = {t.lower() for t in tokens}
    assert out.to_list() == [None if c is None or c.lower() in lowered else c for c in cells]


def test_trim_expression_alone() -> None:
    df = pl.DataFrame({"v": ["\t a \u00a0", None]})
    assert df.select(trim(pl.col("v"))).to_series().to_list() == ["a", None]


def test_lower_and_upper() -> None:
    c = contract(col("s", normalize={"lower": True}), col("code", normalize={"upper": True}))
    frame = raw({"s": ["Shipped", "pending", "ÉTÉ", ""], "code": ["ab", "CD", "eF", None]})
    batch = normalize(frame, c)
    assert values(batch, "s") == ["shipped", "pending", "été", None]
    assert values(batch, "code") == ["AB", "CD", "EF", None]
    assert batch.rule_counts == {"s.null_token": 1, "s.lower": 2, "code.upper": 2}


def test_map_is_exact_after_lower() -> None:
    c = contract(
        col("status", normalize={"lower": True, "map": {"canceled": "cancelled", "x": "y"}})
    )
    frame = raw({"status": ["Canceled", "canceled", "cancelled", "canceled!", "X ", None]})
    batch = normalize(frame, c)
    assert values(batch, "status") == [
        "cancelled",
        "cancelled",
        "cancelled",
        "canceled!",
        "y",
        None,
    ]
    assert batch.rule_counts == {
        "status.trim": 1,
        "status.lower": 2,
        "status.map": 3,
    }


def test_strip_substrings() -> None:
    c = contract(col("tag", normalize={"strip": ("#", "**")}), null_values=("", "-"))
    frame = raw({"tag": ["#a", "**b**", "c", "# d", "#", "#-", "a#b", None]})
    batch = normalize(frame, c)
    # stripping re-trims; a value that would become a null token is left as it was
    assert values(batch, "tag") == ["a", "b", "c", "d", "#", "#-", "ab", None]
    assert batch.rule_counts == {"tag.strip": 4}


def test_strip_then_number_on_decimal() -> None:
    c = contract(col("amount", "decimal(12,2)", normalize={"strip": ("$", ",")}))
    frame = raw({"amount": ["$1,234.50", "12", "$ 7", "1,2"]})
    batch = normalize(frame, c)
    # strip removed the "," so "1,2" becomes "12": strip does what it is told
    assert values(batch, "amount") == ["1234.50", "12", "7", "12"]
    assert batch.rule_counts == {"amount.strip": 3}
