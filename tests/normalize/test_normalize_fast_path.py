"""normalize()'s screened fast path against the reference (every step on every row).

Typed columns run their steps only on the values a cheap test cannot clear (issue 16).
These tests draw contracts whose rules could touch a canonical-looking value (null
tokens "0" or "TRUE", a map key "1e5", stripping "-" or "e", lower/upper on numbers and
datetimes) and messy values, and compare values, counts and their order with the
reference implementation kept in ``normalize._reference``.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalize._reference import reference_normalize
from normalize._support import col, contract, raw
from tidegate.contracts import Contract
from tidegate.normalize import column_steps, normalize
from tidegate.normalize._normalize import CANONICAL_CHARS

TYPES = ["int64", "float64", "decimal(12,2)", "bool", "date", "datetime", "string"]

CANONICAL_LOOKING = [
    "0",
    "12",
    "-3",
    "1.5",
    ".5",
    "1e5",
    "1E5",
    "-2.5e-3",
    "true",
    "false",
    "2024-03-05",
    "2024-13-45",
    "2024-03-05T10:00:00.000000",
    "2024-03-05t10:00:00.000000",
]
MESSY = [
    "",
    " ",
    "\u00a0",
    "\u200b12",
    "12\ufeff",
    "-",
    "N/A",
    "n/a",
    "NULL",
    "null",
    "None",
    "$",
    "$-",
    "+3",
    " 1,234 ",
    "$1,234.50",
    "(12.50)",
    "12 €",
    "1 234",
    "1_000",
    "1,23",
    "1\u00a0234",
    "abc",
    "yes",
    "No",
    "Y",
    "TRUE",
    " True ",
    "05/03/2024",
    "Mar 05 2024",
    "2024-3-5",
    "2024-03-05T10:00:00Z",
    "2024-03-05 10:00:00+02:00",
    "2024-03-05T10:00:00.123456",
    "Canceled",
    " canceled ",
    "\tShipped\t",
    "\u212a",  # Kelvin sign: lower-cases to "k"
    "straße",
    "ǅ",
]
TOKENS = ["", "N/A", "null", "-", "0", "TRUE", "1e5", "2024-03-05", "K", "?", "none"]
MAP_KEYS = ["1e5", "0", "true", "12", "2024-03-05", "canceled", "yes", " 1 "]
MAP_VALUES = ["1", "false", "cancelled", "", "2024-01-01", "X"]
STRIPS = ["$", ",", "-", "e", ".", "0", "T", "€", " "]
FORMATS = {
    "date": [("%Y-%m-%d", "%d/%m/%Y", "%b %d %Y"), ()],
    "datetime": [("%d/%m/%Y %H:%M",), ()],
}

cell = st.one_of(
    st.none(),
    st.sampled_from(CANONICAL_LOOKING),
    st.sampled_from(MESSY + TOKENS + MAP_KEYS),
    st.text(alphabet="0123456789.-+eE T:,$ ", max_size=12),
    st.text(max_size=8),
)


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    columns = []
    for i in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(TYPES))
        rules: dict[str, object] = {
            "trim": draw(st.sampled_from([None, True, False])),
            "lower": draw(st.booleans()),
            "upper": draw(st.booleans()),
            "map": draw(
                st.dictionaries(st.sampled_from(MAP_KEYS), st.sampled_from(MAP_VALUES), max_size=3)
            ),
            "strip": tuple(draw(st.lists(st.sampled_from(STRIPS), max_size=3))),
            "null_values": tuple(draw(st.lists(st.sampled_from(TOKENS), max_size=3))),
        }
        extra: dict[str, object] = {}
        if kind in FORMATS:
            extra["formats"] = draw(st.sampled_from(FORMATS[kind]))
        columns.append(col(f"c{i}", kind, normalize=rules, **extra))
    return contract(
        *columns,
        null_values=tuple(draw(st.lists(st.sampled_from(TOKENS), max_size=4))),
        trim=draw(st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Contract, pl.DataFrame]:
    spec = draw(contracts())
    height = draw(st.integers(min_value=0, max_value=30))
    names = [c.name for c in spec.columns]
    kept = [n for n in names if draw(st.integers(0, 4))]  # now and then a column is missing
    data = {n: draw(st.lists(cell, min_size=height, max_size=height)) for n in kept}
    return spec, raw(data) if kept else raw({"other": [None] * height})


def assert_same(frame: pl.DataFrame, spec: Contract) -> None:
    fast, slow = normalize(frame, spec), reference_normalize(frame, spec)
    assert fast.frame.equals(slow.frame)
    assert list(fast.rule_counts.items()) == list(slow.rule_counts.items())
    assert (fast.header_map, fast.unknown_columns, fast.missing_columns) == (
        slow.header_map,
        slow.unknown_columns,
        slow.missing_columns,
    )


# Each thing the screen tests a canonical value for, on a value it must catch.
CANONICAL_BUT_TOUCHED = [
    ("float64", {"lower": True}, "1E5"),
    ("float64", {"upper": True}, "1e5"),
    ("bool", {"upper": True}, "true"),
    ("datetime", {"lower": True}, "2024-03-05T10:00:00.000000"),
    ("float64", {"map": {"1e5": "100000"}}, "1e5"),
    ("bool", {"map": {"true": "false"}}, "true"),
    ("date", {"map": {"2024-03-05": "2024-01-01"}}, "2024-03-05"),
    ("int64", {"strip": ("-",)}, "-3"),
    ("float64", {"strip": ("e",)}, "1e5"),
    ("int64", {"strip": ("0",)}, "10"),
    ("datetime", {"strip": ("T",)}, "2024-03-05T10:00:00.000000"),
    ("int64", {"null_values": ("0",)}, "0"),
    ("bool", {"null_values": ("TRUE",)}, "true"),
    ("date", {"null_values": ("2024-03-05",)}, "2024-03-05"),
    ("float64", {"null_values": ("1E5",)}, "1e5"),
]


@pytest.mark.parametrize(("kind", "rules", "value"), CANONICAL_BUT_TOUCHED)
def test_a_canonical_value_a_rule_changes_is_not_skipped(
    kind: str, rules: dict[str, object], value: str
) -> None:
    spec = contract(col("c", kind, normalize=rules))
    frame = raw({"c": [value, value, None, "12", "true", "2024-03-05"]})
    assert_same(frame, spec)
    assert normalize(frame, spec).rule_counts  # the rule did change something


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_fast_path_matches_every_step_on_every_row(case: tuple[Contract, pl.DataFrame]) -> None:
    spec, frame = case
    assert_same(frame, spec)


@pytest.mark.parametrize("seed", range(3))
def test_fast_path_matches_on_a_large_mostly_canonical_frame(seed: int) -> None:
    """Many rows, mostly canonical with a sprinkling of messy ones: the shape the fast
    path is for (gathering a few rows, scattering them back)."""
    spec = contract(
        col("n", "int64", normalize={"null_values": ("0",)}),
        col("amount", "decimal(12,2)", normalize={"strip": ("$", ",")}),
        col("x", "float64", normalize={"lower": True, "map": {"1e5": "100000"}}),
        col("day", "date", formats=("%Y-%m-%d", "%d/%m/%Y")),
        col("at", "datetime", normalize={"upper": True}),
        col("ok", "bool", normalize={"upper": True}),
        col("status", normalize={"lower": True, "map": {"canceled": "cancelled"}}),
        null_values=("", "N/A", "null", "-"),
    )
    rng = pl.int_range(0, 5000, eager=True).shuffle(seed=seed)
    messy = pl.Series(MESSY + TOKENS + CANONICAL_LOOKING)

    def column(canonical: list[str]) -> list[str | None]:
        base = pl.Series(canonical * (5000 // len(canonical) + 1))[:5000]
        pick = messy.sample(5000, with_replacement=True, seed=seed)
        return (
            pl.select(
                pl.when(rng % 17 == 0).then(pick).when(rng % 31 == 0).then(None).otherwise(base)
            )
            .to_series()
            .to_list()
        )

    frame = raw(
        {
            "n": column(["1", "22", "333", "-4"]),
            "amount": column(["11377.83", "0.5", "12"]),
            "x": column(["1.5", "1e5", "-2E3", "7"]),
            "day": column(["2024-06-06", "2023-01-31"]),
            "at": column(["2024-03-05T10:00:00.000000"]),
            "ok": column(["true", "false"]),
            "status": column(["shipped", "pending"]),
        }
    )
    assert_same(frame, spec)


@given(
    st.sampled_from(sorted(CANONICAL_CHARS)).flatmap(
        lambda p: st.tuples(st.just(p), st.from_regex(p, fullmatch=True))
    )
)
def test_canonical_values_are_made_of_their_characters(case: tuple[str, str]) -> None:
    """The screen's reasoning rests on this: a canonical value uses only these characters."""
    pattern, value = case
    if pl.Series([value]).str.contains(pattern).item():  # as polars matches it
        assert set(value) <= CANONICAL_CHARS[pattern]


def test_every_canonical_pattern_has_its_characters() -> None:
    for kind in ("int64", "float64", "decimal(10,2)", "bool", "date", "datetime"):
        (step,) = [s for s in column_steps(col("c", kind), contract()) if s.canonical]
        assert step.canonical in CANONICAL_CHARS
