"""The GX row engine: tidegate's polars evaluation of each row expectation finds exactly
the rows GX's own COMPLETE result finds, every one of them (far more than 200), and the
engine turns them into quarantine failures named by the expectation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from helpers import suite_contract
from tidegate.contracts._model import Contract
from tidegate.contracts._suite import ROW_TYPES, ExpectationSpec
from tidegate.validate import validate
from tidegate.validate._gx_context import (
    COMPLETE,
    pandas_frame,
    raised,
    unexpected_positions,
    validate_with_gx,
)
from tidegate.validate._gx_polars import unexpected
from tidegate.validate._gx_rows import evaluate_rows

N = 1200
COLUMNS = {
    "s": {"type": "string", "nullable": True},
    "n": {"type": "int64", "nullable": True},
    "f": {"type": "float64", "nullable": True},
    "d": {"type": "date", "nullable": True},
    "a": {"type": "int64", "nullable": True},
    "b": {"type": "int64", "nullable": True},
    "c": {"type": "int64", "nullable": True},
}


def _frame() -> pl.DataFrame:
    i = pl.int_range(N, eager=True)
    words = ["apple", "Banana", "cherry", "", "kiwi7", "a b", "ZZZ", "pear"]
    return pl.DataFrame(
        {
            "s": [None if k % 11 == 0 else words[k % len(words)] for k in range(N)],
            "n": [None if k % 13 == 0 else (k * 7) % 50 - 5 for k in range(N)],
            "f": [
                None if k % 17 == 0 else float("nan") if k % 19 == 0 else k / 10 for k in range(N)
            ],
            "d": [
                None if k % 23 == 0 else dt.date(2024, 1, 1) + dt.timedelta(days=k % 400)
                for k in range(N)
            ],
            "a": [None if k % 5 == 0 else k % 9 for k in range(N)],
            "b": [None if k % 7 == 0 else k % 4 for k in range(N)],
            "c": [None if k % 3 == 0 else k % 6 for k in range(N)],
        }
    ).with_columns((i + 2).alias("_tidegate_record"))


# (type, kwargs) for every type tidegate evaluates itself; several for the tricky ones.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("expect_column_values_to_not_be_null", {"column": "f"}),
    ("expect_column_values_to_not_be_null", {"column": "s"}),
    ("expect_column_values_to_be_null", {"column": "n"}),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["apple", "pear", ""]}),
    ("expect_column_values_to_be_in_set", {"column": "n", "value_set": [1, 2, 3, 44]}),
    ("expect_column_values_to_not_be_in_set", {"column": "s", "value_set": ["ZZZ", "a b"]}),
    ("expect_column_values_to_be_between", {"column": "n", "min_value": 0, "max_value": 30}),
    (
        "expect_column_values_to_be_between",
        {"column": "f", "min_value": 5, "max_value": 90.5, "strict_min": True},
    ),
    ("expect_column_values_to_be_between", {"column": "n", "max_value": 20, "strict_max": True}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "an"}),
    ("expect_column_values_to_match_regex", {"column": "s", "regex": "^[a-z]+$"}),
    ("expect_column_values_to_not_match_regex", {"column": "s", "regex": "[0-9]"}),
    ("expect_column_values_to_match_regex_list", {"column": "s", "regex_list": ["^a", "y$"]}),
    (
        "expect_column_values_to_match_regex_list",
        {"column": "s", "regex_list": ["a", "e"], "match_on": "all"},
    ),
    ("expect_column_values_to_not_match_regex_list", {"column": "s", "regex_list": ["Z", " "]}),
    ("expect_column_value_lengths_to_be_between", {"column": "s", "min_value": 1, "max_value": 5}),
    ("expect_column_value_lengths_to_equal", {"column": "s", "value": 4}),
    ("expect_column_values_to_be_unique", {"column": "f"}),
    ("expect_column_values_to_be_unique", {"column": "n"}),
    ("expect_column_pair_values_to_be_equal", {"column_A": "a", "column_B": "b"}),
    (
        "expect_column_pair_values_to_be_equal",
        {"column_A": "a", "column_B": "b", "ignore_row_if": "either_value_is_missing"},
    ),
    ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "a", "column_B": "b"}),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "a", "column_B": "b", "or_equal": True, "ignore_row_if": "neither"},
    ),
    ("expect_multicolumn_sum_to_equal", {"column_list": ["a", "b", "c"], "sum_total": 6}),
    ("expect_compound_columns_to_be_unique", {"column_list": ["a", "b"]}),
    (
        "expect_select_column_values_to_be_unique_within_record",
        {"column_list": ["a", "b", "c"]},
    ),
]


def _contract(
    tmp_path: Path, expectations: list[dict[str, Any]], mode: str = "tidegate"
) -> Contract:
    return suite_contract(tmp_path, COLUMNS, expectations, "messy", row_evaluation=mode)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Contract, dict[str, Any]]:
    """The contract with every case, and GX's own COMPLETE result of each (GX runs once)."""
    tmp = tmp_path_factory.mktemp("gx")
    contract = _contract(tmp, [{"type": t, "kwargs": k} for t, k in CASES])
    assert contract.expectations is not None
    return contract, _gx(_frame(), contract.expectations.expectations, contract)


def _gx(frame: pl.DataFrame, specs: Any, contract: Contract) -> dict[str, Any]:
    """GX's own COMPLETE results of ``specs`` on ``frame``, by rule id."""
    columns = [c for spec in specs for c in spec.columns]
    return validate_with_gx(pandas_frame(frame, columns), specs, COMPLETE, contract)


def _gx_rows(result: Any) -> set[int]:
    rows = unexpected_positions(result)
    assert rows is not None, result
    return set(rows.to_list())


def test_every_tidegate_row_type_has_a_case() -> None:
    covered = {t for t, _ in CASES}
    assert covered == set(ROW_TYPES) - {"unexpected_rows_expectation"}


@pytest.mark.parametrize(
    "index", range(len(CASES)), ids=[f"{t}-{i}" for i, (t, _) in enumerate(CASES)]
)
def test_polars_finds_exactly_the_rows_gx_finds(
    index: int, cases: tuple[Contract, dict[str, Any]]
) -> None:
    contract, gx_results = cases
    assert contract.expectations is not None
    spec: ExpectationSpec = contract.expectations.expectations[index]
    mask = unexpected(spec, _frame())
    assert mask is not None, f"{spec.rule_id} fell back to GX"
    ours = set(mask.arg_true().to_list())
    theirs = _gx_rows(gx_results[spec.rule_id])
    assert ours == theirs, (spec.describe(), sorted(ours ^ theirs)[:10])


def test_most_cases_find_many_rows_and_some_find_none(
    cases: tuple[Contract, dict[str, Any]],
) -> None:
    _, gx_results = cases
    counts = [len(_gx_rows(r)) for r in gx_results.values()]
    assert len(counts) == len(CASES)
    assert sum(c > 200 for c in counts) >= 10  # GX's partial lists stop at 20 or 200
    assert max(counts) < N


def test_date_bounds_given_as_text_are_evaluated_where_gx_raises(tmp_path: Path) -> None:
    """GX 1.x on pandas parses "2024-02-01" to a date it cannot compare with the column;
    tidegate parses it to the column's type and finds every row outside the range."""
    kwargs = {"column": "d", "min_value": "2024-02-01", "max_value": "2024-12-31"}
    contract = _contract(
        tmp_path, [{"type": "expect_column_values_to_be_between", "kwargs": kwargs}]
    )
    assert contract.expectations is not None
    spec = contract.expectations.expectations[0]
    frame = _frame()
    (gx_result,) = _gx(frame, [spec], contract).values()
    assert raised(gx_result) and "comparison" in str(raised(gx_result))
    mask = unexpected(spec, frame)
    assert mask is not None
    d = frame["d"]
    outside = d.is_not_null() & ((d < dt.date(2024, 2, 1)) | (d > dt.date(2024, 12, 31)))
    assert mask.equals(outside.fill_null(False), check_names=False)
    assert mask.sum() > 100


def test_what_polars_cannot_take_as_gx_does_falls_back_to_gx(tmp_path: Path) -> None:
    """A lookahead (not in polars' regex engine), ints in a string set and a type
    tidegate does not translate are run by GX, and still every row is found."""
    expectations = [
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "s", "regex": "^(?!a)"},
        },
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": [1]}},
        {"type": "expect_column_values_to_be_json_parseable", "kwargs": {"column": "s"}},
    ]
    contract = _contract(tmp_path, expectations)
    frame = _frame()
    found = {e.spec.rule_id: e for e in evaluate_rows(frame, contract)}
    assert {e.evaluated_by for e in found.values()} == {"gx"}
    starts_with_a = frame["s"].str.starts_with("a").fill_null(False)
    assert set(found["s.expect_column_values_to_match_regex"].rows) == set(starts_with_a.arg_true())
    present = frame["s"].is_not_null().arg_true()
    assert set(found["s.expect_column_values_to_be_in_set"].rows) == set(present)
    json_bad = set(found["s.expect_column_values_to_be_json_parseable"].rows)
    assert len(json_bad) > 200 and json_bad <= set(present)


def test_an_unexpected_rows_query_runs_in_duckdb_over_the_batch(tmp_path: Path) -> None:
    by_index = "SELECT * FROM {batch} WHERE a > b"
    by_values = "SELECT s, n FROM {batch} WHERE n < 10"
    expectations = [
        {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": q}}
        for q in (by_index, by_values)
    ]
    contract = _contract(tmp_path, expectations)
    frame = _frame()
    first, second = evaluate_rows(frame, contract)
    assert first.evaluated_by == second.evaluated_by == "duckdb"
    assert first.spec.rule_id == "_row.unexpected_rows_expectation"
    assert second.spec.rule_id == "_row.unexpected_rows_expectation.2"
    assert set(first.rows) == set((frame["a"] > frame["b"]).fill_null(False).arg_true())
    # Without the index column, the rows are found again by the values the query returns.
    assert set(second.rows) == set((frame["n"] < 10).fill_null(False).arg_true())
    assert second.rows.len() > 200


def test_failures_name_the_expectation_and_are_the_same_under_either_evaluation(
    tmp_path: Path,
) -> None:
    expectations = [
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "s", "value_set": ["apple"]},
        },
        {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {"column_A": "a", "column_B": "b"},
        },
    ]
    normalized = _frame().with_columns(pl.exclude("_tidegate_record").cast(pl.String))
    ours = validate(normalized, _contract(tmp_path, expectations))
    gx_way = validate(normalized, _contract(tmp_path, expectations, mode="gx"))
    assert ours.failures.equals(gx_way.failures)
    in_set = ours.failures.filter(pl.col("rule") == "s.expect_column_values_to_be_in_set")
    assert in_set.height > 200
    assert in_set["message"].unique().to_list() == [
        "failed expect_column_values_to_be_in_set(value_set=['apple'])"
    ]
    assert "apple" not in in_set["value"].to_list()
    pair = ours.failures.filter(
        pl.col("rule") == "_row.expect_column_pair_values_a_to_be_greater_than_b"
    )
    assert set(pair["column"]) == {"a", "b"}  # one failure per column the expectation reads
    assert pair.height == 2 * pair["_row"].n_unique()
