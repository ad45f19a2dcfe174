"""The ``"great_expectations"`` validation engine: a suite's row expectations.

Every unexpected row of every row expectation becomes a failure in tidegate's long
form, under the expectation's rule id (``status.expect_column_values_to_be_in_set``)
with its type and arguments as the message, so it is quarantined beside pandera's
failures. Not a sample of 20 or 200: every row, by one of three means, recorded per
expectation in :attr:`RowEvaluation.evaluated_by`:

* ``"tidegate"``: the types in :mod:`tidegate.validate._gx_polars`, as polars
  expressions (under ``row_evaluation: tidegate``, the default);
* ``"duckdb"``: ``unexpected_rows_expectation``, whose query GX runs only on SQL
  sources, runs in an in-memory DuckDB over the batch as ``{batch}``;
* ``"gx"``: everything else (and everything under ``row_evaluation: gx``) by GX on
  pandas with ``result_format: COMPLETE``, so GX lists every unexpected row's index,
  not a partial list.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import Contract
from tidegate.contracts._suite import ExpectationSpec
from tidegate.errors import ConfigError
from tidegate.validate._gx_context import (
    COMPLETE,
    ROW_INDEX,
    pandas_frame,
    raised,
    unexpected_positions,
    validate_with_gx,
)
from tidegate.validate._gx_polars import unexpected


@dataclass(frozen=True)
class RowEvaluation:
    """The unexpected rows of one row expectation, and what found them."""

    spec: ExpectationSpec
    rows: pl.Series  # UInt32 positions in the typed frame
    evaluated_by: str  # "tidegate" | "duckdb" | "gx"


class GxRowEngine:
    """A contract's GX suite: its row expectations, every unexpected row."""

    kind = "great_expectations"

    def applies_to(self, contract: Contract) -> bool:
        return contract.expectations is not None and bool(contract.expectations.row_expectations)

    def row_failures(self, typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
        return failures_of(evaluate_rows(typed, contract), typed)


def evaluate_rows(typed: pl.DataFrame, contract: Contract) -> list[RowEvaluation]:
    """Every row expectation of the contract's suite over ``typed``, in suite order."""
    suite = contract.expectations
    if suite is None:
        return []
    found: dict[str, RowEvaluation] = {}
    for_gx: list[ExpectationSpec] = []
    for spec in suite.row_expectations:
        if spec.type == "unexpected_rows_expectation":
            found[spec.rule_id] = RowEvaluation(spec, _query_rows(typed, spec, contract), "duckdb")
            continue
        mask = unexpected(spec, typed) if suite.row_evaluation == "tidegate" else None
        if mask is None:
            for_gx.append(spec)
        else:
            found[spec.rule_id] = RowEvaluation(spec, _positions(mask), "tidegate")
    frame = pandas_frame(typed, [c for spec in for_gx for c in spec.columns]) if for_gx else None
    for rule, result in validate_with_gx(frame, for_gx, COMPLETE, contract).items():
        spec = next(s for s in for_gx if s.rule_id == rule)
        problem = raised(result)
        if problem:
            raise ConfigError(
                f"contract {contract.path}: GX could not evaluate {spec.rule_id} "
                f"({spec.describe()}): {problem}; fix the expectation in {suite.path}"
            )
        rows = unexpected_positions(result)
        if rows is None:
            raise ConfigError(
                f"contract {contract.path}: GX found {spec.rule_id} ({spec.describe()}) "
                "unmet but listed no unexpected rows; set `row_evaluation: tidegate` or "
                f"replace the expectation in {suite.path}"
            )
        found[rule] = RowEvaluation(spec, rows, "gx")
    return [found[s.rule_id] for s in suite.row_expectations]


def _positions(mask: pl.Series) -> pl.Series:
    return mask.arg_true().cast(pl.UInt32).alias("_row")


def _query_rows(typed: pl.DataFrame, spec: ExpectationSpec, contract: Contract) -> pl.Series:
    """The rows ``unexpected_rows_query`` returns, run in DuckDB with ``{batch}`` as the
    batch (with ``_tidegate_row``): by that column when the query keeps it, else every
    row whose values match a returned row on the columns it returns."""
    from tidegate.errors import ReadQueryError
    from tidegate.store._frame_query import query_frame

    query = str(spec.kwargs["unexpected_rows_query"]).replace("{batch}", "tidegate_batch")
    batch = typed.drop("_tidegate_record", strict=False).with_row_index(ROW_INDEX)
    try:
        result = query_frame(batch, "tidegate_batch", query)
    except ReadQueryError as exc:
        raise ConfigError(
            f"contract {contract.path}: the query of {spec.rule_id} did not run: {exc}; "
            "fix unexpected_rows_query in "
            f"{contract.expectations.path if contract.expectations else 'the suite'}"
        ) from None
    if ROW_INDEX in result.columns:
        rows = result[ROW_INDEX]
    else:
        rows = batch.join(result.unique(), on=result.columns, how="semi", nulls_equal=True)[
            ROW_INDEX
        ]
    return rows.unique().sort().cast(pl.UInt32).alias("_row")


def _empty_batch(contract: Contract) -> pl.DataFrame:
    from tidegate.contracts._types import polars_dtype

    return pl.DataFrame(schema={c.name: polars_dtype(c) for c in contract.columns})


def check_queries(contract: Contract) -> None:
    """Run each ``unexpected_rows_query`` of the suite on an empty batch of the
    contract's columns: a query that does not parse, or names a column the contract
    does not have, is a ConfigError before any data is read."""
    if contract.expectations is None:
        return
    empty = _empty_batch(contract)
    for spec in contract.expectations.row_expectations:
        if spec.type == "unexpected_rows_expectation":
            _query_rows(empty, spec, contract)


def evaluated_by(contract: Contract) -> dict[str, str]:
    """Rule id -> what evaluates each row expectation of the suite on the contract's
    typed columns ("tidegate", "duckdb" or "gx"), as :func:`evaluate_rows` does."""
    suite = contract.expectations
    if suite is None:
        return {}
    empty = _empty_batch(contract)

    def by(spec: ExpectationSpec) -> str:
        if spec.type == "unexpected_rows_expectation":
            return "duckdb"
        if suite.row_evaluation == "gx" or unexpected(spec, empty) is None:
            return "gx"
        return "tidegate"

    return {spec.rule_id: by(spec) for spec in suite.row_expectations}


def failures_of(evaluations: list[RowEvaluation], typed: pl.DataFrame) -> pl.DataFrame:
    """Long-form failures: one per unexpected row and column the expectation reads (one
    with no column for a query), the value as text, the expectation as the message."""
    frames = []
    for ev in evaluations:
        if ev.rows.is_empty():
            continue
        message = f"failed {ev.spec.describe()}"
        rows = pl.DataFrame({"_row": ev.rows})
        for column in ev.spec.columns or (None,):
            value = (
                typed[column].gather(ev.rows).cast(pl.String)
                if column
                else pl.Series([None] * ev.rows.len(), dtype=pl.String)
            )
            frames.append(
                rows.with_columns(
                    rule=pl.lit(ev.spec.rule_id),
                    column=pl.lit(column, dtype=pl.String),
                    value=value,
                    message=pl.lit(message),
                )
            )
    return concat_failures(frames)
