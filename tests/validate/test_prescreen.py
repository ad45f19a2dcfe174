"""The fast paths of validation say exactly what the slow ones say.

pandera validating only the pre-screened rows (:mod:`tidegate.validate._prescreen`)
against pandera validating the whole frame, on random contracts (every check kind,
not-null, unique, keys, expr checks that look at other rows) and random typed frames;
and :func:`tidegate.validate.validate` against itself with every shortcut turned off
(whole-frame pandera, the key's unique checked, the decimal places regex on every
value, the NUL search in every value), on random normalized frames.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidegate.contracts import Contract, contract_from_dict, polars_dtype
from tidegate.errors import ConfigError
from tidegate.validate import _cast, _pandera_engine, _storable, _verdicts, validate
from tidegate.validate._pandera_engine import pandera_failures
from tidegate.validate._prescreen import prescreened

TYPES = {
    "i": "int64",
    "f": "float64",
    "d": "decimal(12,2)",
    "s": "string",
    "b": "bool",
    "day": "date",
    "at": "datetime",
}
VALUES: dict[str, list[Any]] = {
    "i": [-2, 0, 1, 3, 7, None],
    "f": [-1.5, 0.0, 2.5, float("nan"), None],
    "d": [Decimal("-1.00"), Decimal("0.00"), Decimal("10.50"), None],
    "s": ["", "a", "ab", "abc@x.y", "ZZ", None],
    "b": [True, False, None],
    "day": [dt.date(2020, 1, 1), dt.date(2024, 6, 1), None],
    "at": [dt.datetime(2020, 1, 1, 12), dt.datetime(2031, 1, 1), None],
}
BOUNDS: dict[str, list[Any]] = {
    "i": [-1, 0, 3],
    "f": [0, 1.5],
    "d": [0, 5.25],
    "day": ["2021-01-01", "2024-06-01"],
    "at": ["2025-01-01T00:00:00"],
}
# Row-local and not: an aggregate, a window, a constant over the frame.
EXPRS = [
    "f >= i",
    "s IS NOT NULL",
    "d <= 2 * AVG(d)",
    "i < MAX(i) OVER ()",
    "COUNT(*) > 3",
]


@st.composite
def checks_for(draw: st.DrawFn, column: str) -> list[dict[str, Any]]:
    kind = TYPES[column]
    found: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 2))):
        options: list[dict[str, Any]] = []
        if column in BOUNDS:
            bound = st.sampled_from(BOUNDS[column])
            options += [
                {draw(st.sampled_from(["ge", "gt", "le", "lt"])): draw(bound)},
                {"between": sorted([draw(bound), draw(bound)])},
            ]
        if kind == "string":
            options += [
                {"regex": draw(st.sampled_from(["^a", "@", "^[^@]+@[^@]+$"]))},
                {
                    "str_length": {
                        "min": (lo := draw(st.integers(0, 2))),
                        "max": lo + draw(st.integers(0, 1)),
                    }
                },
                {draw(st.sampled_from(["isin", "notin"])): ["a", "ab", ""]},
            ]
        elif kind == "bool":
            options.append({draw(st.sampled_from(["isin", "notin"])): [True]})
        elif kind == "int64":
            options.append({draw(st.sampled_from(["isin", "notin"])): [0, 1, 7]})
        elif kind in ("float64", "decimal(12,2)"):
            options.append({draw(st.sampled_from(["isin", "notin"])): [0, 1, 10.5]})
        elif kind == "date":
            options.append({"notin": ["2024-06-01"]})
        options.append({"expr": draw(st.sampled_from(EXPRS))})
        found.append({**draw(st.sampled_from(options)), "name": f"c{n}"})
    return found


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    key = draw(st.sampled_from([[], ["i"], ["s"], ["i", "s"]]))
    columns = {}
    for name, kind in TYPES.items():
        columns[name] = {
            "type": kind,
            "nullable": name not in key and draw(st.booleans()),
            "unique": draw(st.booleans()),
            "checks": draw(checks_for(name)),
        }
    return contract_from_dict(
        {"source": "orders", "version": 1, "primary_key": key, "columns": columns}
    )


@st.composite
def typed_frames(draw: st.DrawFn, contract: Contract) -> pl.DataFrame:
    n = draw(st.integers(0, 12))
    data = {
        c.name: pl.Series(
            c.name, [draw(st.sampled_from(VALUES[c.name])) for _ in range(n)], polars_dtype(c)
        )
        for c in contract.columns
    }
    frame = pl.DataFrame(data)
    return frame.with_columns(pl.int_range(2, n + 2, dtype=pl.Int64).alias("_tidegate_record"))


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The sorted long-form failures, or the error raised."""
    try:
        failures = fn(*args, **kwargs)
    except ConfigError as exc:
        return ("raised", str(exc))
    return failures.sort(failures.columns).rows()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_pandera_on_the_prescreened_rows_reports_what_it_reports_on_all(data: Any) -> None:
    contract = data.draw(contracts())
    typed = data.draw(typed_frames(contract))
    fast = _outcome(pandera_failures, typed, contract)
    assert fast == _outcome(pandera_failures, typed, contract, prescreen=False)


def _contract(**columns: dict[str, Any]) -> Contract:
    return contract_from_dict(
        {"source": "orders", "version": 1, "primary_key": ["i"], "columns": columns}
    )


ALL_KINDS = _contract(
    i={"type": "int64", "checks": [{"ge": 0}]},
    f={"type": "float64", "nullable": False, "checks": [{"lt": 10}, {"expr": "f >= i"}]},
    d={"type": "decimal(12,2)", "checks": [{"between": [0, 5]}, {"notin": [1]}]},
    s={
        "type": "string",
        "unique": True,
        "checks": [{"regex": "^a"}, {"str_length": {"min": 1, "max": 2}}, {"isin": ["a", "ab"]}],
    },
)


def _typed(rows: list[dict[str, Any]], contract: Contract) -> pl.DataFrame:
    schema = {c.name: polars_dtype(c) for c in contract.columns}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_tidegate_record"))


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{"i": 1, "f": 2.0, "d": Decimal("2.00"), "s": "a"}],
        # every row fails something (one of them everything)
        [
            {"i": -1, "f": None, "d": Decimal("9.00"), "s": "zzz"},
            {"i": 1, "f": float("nan"), "d": Decimal("1.00"), "s": "b"},
            {"i": 2, "f": 1.0, "d": None, "s": "b"},
        ],
    ],
    ids=["empty", "clean", "all-failing"],
)
def test_empty_clean_and_all_failing_frames(rows: list[dict[str, Any]]) -> None:
    typed = _typed(rows, ALL_KINDS)
    fast = _outcome(pandera_failures, typed, ALL_KINDS)
    assert fast == _outcome(pandera_failures, typed, ALL_KINDS, prescreen=False)
    screened = prescreened(typed.drop("_tidegate_record"), ALL_KINDS)
    assert screened is not None and screened[1].to_list() == (
        list(range(len(rows))) if len(rows) == 3 else []
    )


def test_rows_sharing_a_value_are_judged_together_and_mapped_back() -> None:
    typed = _typed(
        [{"i": k, "f": 5.0, "d": None, "s": s} for k, s in enumerate(["a", "ab", "a", "ab", "zz"])],
        ALL_KINDS,
    )
    fast = pandera_failures(typed, ALL_KINDS)
    assert sorted(fast.select("_row", "rule").rows()) == [
        (0, "s.unique"),
        (1, "s.unique"),
        (2, "s.unique"),
        (3, "s.unique"),
        (4, "s.isin"),
        (4, "s.regex"),
    ]


def test_a_check_that_looks_at_other_rows_sends_the_whole_frame_to_pandera() -> None:
    contract = _contract(
        i={"type": "int64", "checks": [{"ge": 0}]},
        d={"type": "decimal(12,2)", "checks": [{"expr": "d <= 2 * AVG(d)"}]},
    )
    typed = _typed(
        [
            {"i": -1, "d": Decimal("1.00")},
            {"i": 1, "d": Decimal("1.00")},
            {"i": 2, "d": Decimal("10.00")},
        ],
        contract,
    )
    # On the two failing rows alone the average is 5.50, not 4.00: row 2 would pass.
    assert prescreened(typed.drop("_tidegate_record"), contract) is None
    assert _outcome(pandera_failures, typed, contract) == _outcome(
        pandera_failures, typed, contract, prescreen=False
    )


def test_a_column_not_in_its_declared_type_is_not_prescreened() -> None:
    typed = _typed([{"i": 1, "f": 2.0, "d": Decimal("2.00"), "s": "a"}], ALL_KINDS)
    wrong = typed.with_columns(pl.col("i").cast(pl.Int32))
    assert prescreened(wrong.drop("_tidegate_record"), ALL_KINDS) is None
    assert _outcome(pandera_failures, wrong, ALL_KINDS) == _outcome(
        pandera_failures, wrong, ALL_KINDS, prescreen=False
    )


# --- validate(), every shortcut on against every shortcut off --------------------------

NORMALIZED: dict[str, list[str | None]] = {
    "i": ["1", "2", "2", "-3", "x", "1\x00", None],
    "f": ["1.5", "nan", "-0.0", "1e3", "abc", None],
    "d": ["1.00", "1.239", "1.230", "0.001", "1.2.3", "1e3", "-4.5", "12.", "\x00", None],
    "s": ["a", "ab", "a\x00b", "abc@x.y", "", None],
    "b": ["true", "false", "yes", None],
    "day": ["2024-01-05", "2024-02-30", "05/01/2024", None],
    "at": ["2024-01-05T10:00:00", "2024-01-05T10:00:00.5", "x", None],
}


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """validate() with every shortcut off: the code as it was before them."""
    monkeypatch.setattr(
        _pandera_engine,
        "pandera_failures",
        functools.partial(_pandera_engine.pandera_failures, prescreen=False),
    )
    monkeypatch.setattr(_verdicts, "_without_key_uniqueness", lambda contract: contract)
    monkeypatch.setattr(
        _cast,
        "_may_have_extra_places",
        lambda frame, columns: {c.name for c in columns if c.decimal_precision_scale},
    )

    def holding_nul(frame: pl.DataFrame, columns: list[str]) -> list[str]:
        found = frame.select(pl.col(columns).str.contains("\x00", literal=True).any()).row(0)
        return [c for c, hit in zip(columns, found, strict=True) if hit]

    monkeypatch.setattr(_storable, "_holding_nul", holding_nul)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_validate_with_its_shortcuts_says_what_it_says_without(data: Any) -> None:
    contract = data.draw(contracts())
    n = data.draw(st.integers(0, 10))
    frame = pl.DataFrame(
        {
            c: pl.Series(c, [data.draw(st.sampled_from(v)) for _ in range(n)], pl.String)
            for c, v in NORMALIZED.items()
        }
    ).with_columns(pl.int_range(2, n + 2, dtype=pl.Int64).alias("_tidegate_record"))

    def outcome() -> Any:
        try:
            v = validate(frame, contract)
        except ConfigError as exc:
            return ("raised", str(exc))
        return v.typed.rows(), v.failures.sort(v.failures.columns).rows()

    fast = outcome()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _slow(monkeypatch)
        slow = outcome()
    assert _same(fast, slow)


def _same(a: Any, b: Any) -> bool:
    """Equal, a NaN equal to a NaN."""
    return repr(a) == repr(b)


def test_a_model_schema_judges_the_whole_frame_beside_the_prescreened_one() -> None:
    from helpers import make_contract

    contract = make_contract(model="helpers:OrdersModel")
    typed = pl.DataFrame(
        {
            "order_id": [1, 2, 3],
            "status": ["shipped", "lost", "pending"],
            "amount": pl.Series([None, Decimal("-1.00"), None], dtype=pl.Decimal(12, 2)),
            "order_date": [None, None, None],
            "_tidegate_record": [2, 3, 4],
        },
        schema_overrides={"order_date": pl.Date},
    )
    fast = _outcome(pandera_failures, typed, contract)
    assert fast == _outcome(pandera_failures, typed, contract, prescreen=False)
    assert {(row, rule) for row, rule, *_ in fast} >= {(0, "_row.shipped_needs_amount")}
