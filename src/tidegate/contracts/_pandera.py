"""Compile a contract to pandera (polars) schemas over the *typed* frame.

The typed frame has every contract column already cast: Int64, Float64,
Decimal(p,s), String, Boolean, Date, Datetime("us"). Importing this module imports
pandera (about half a second), so :mod:`tidegate.contracts` loads it only on use.

Rule ids in ``SchemaErrors.failure_cases["check"]``:

* every declared check is a custom ``pa.Check`` named with its ``rule_id``
  (``amount.ge``, ``email.regex``, ``total.expr.total_covers_amount``);
* ``unique: true`` is a custom check named ``<column>.unique`` that ignores nulls
  (pandera's own ``unique=True`` counts repeated nulls as duplicates);
* nullability and dtype are pandera's own: ``not_nullable`` and ``dtype('Int64')``
  with ``column`` set; a missing column is ``column_in_dataframe`` with the column
  name as ``failure_case``. :func:`tidegate_rule_id` (one row) and
  :func:`with_rule_ids` (the whole frame, a ``rule`` column) map these to rule ids.

Rows with a null ``index`` are frame-level: a missing column, a wrong dtype, or a
check that raised while running (its ``failure_case`` is the error text).

Value checks let nulls pass: a null is judged only by ``nullable``. An ``expr`` check
sits on its column (so ``failure_case`` is that column's value) and a row where the
expression is null passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandera.polars as pa
import polars as pl

from tidegate.contracts._check_exprs import is_nullable, passes, unique_passes
from tidegate.contracts._load import import_model
from tidegate.contracts._model import CheckSpec, ColumnSpec, Contract
from tidegate.contracts._types import polars_dtype
from tidegate.rules import ROW_RULE_PREFIX

_PANDERA_RULES = {"not_nullable": "not_null", "field_uniqueness": "unique"}


def to_pandera_schema(contract: Contract) -> pa.DataFrameSchema:
    """The contract's own schema: one column per contract column, coerce=False, strict=False."""
    columns = {c.name: _column(c, contract) for c in contract.columns}
    # No schema name: pandera would put it in the ``column`` of frame-level failures.
    return pa.DataFrameSchema(columns, coerce=False, strict=False)


def to_pandera_schemas(contract: Contract) -> list[pa.DataFrameSchema]:
    """``[contract schema]``, plus the ``model:`` DataFrameModel's schema second when set.

    Validate the typed frame with each in turn; the model's failure cases carry the
    model's own check names.
    """
    schemas = [to_pandera_schema(contract)]
    if contract.model:
        model = import_model(contract.model, contract.path)
        schemas.append(model.to_schema())  # type: ignore[attr-defined]
    return schemas


def tidegate_rule_id(case: Mapping[str, Any]) -> str:
    """The tidegate rule id for one ``failure_cases`` row (a dict from ``iter_rows(named=True)``).

    Our checks already carry rule ids (``amount.ge``) and are returned as they are.
    pandera's built-ins are mapped: ``not_nullable`` -> ``<column>.not_null``,
    ``field_uniqueness`` -> ``<column>.unique``, ``dtype(...)`` -> ``<column>.type``,
    ``column_in_dataframe`` -> ``<missing column>.missing``. Other column checks (from
    a ``model:``) become ``<column>.<check>``; other frame-level checks ``_row.<check>``.
    """
    check, column = str(case["check"]), case.get("column")
    if check == "column_in_dataframe":
        return f"{case.get('failure_case')}.missing"
    if case.get("schema_context") != "Column" or column is None:
        return check if check.startswith(ROW_RULE_PREFIX) else f"{ROW_RULE_PREFIX}{check}"
    if check in _PANDERA_RULES:
        return f"{column}.{_PANDERA_RULES[check]}"
    if check.startswith("dtype("):
        return f"{column}.type"
    return check if check.startswith(f"{column}.") else f"{column}.{check}"


def with_rule_ids(failure_cases: pl.DataFrame) -> pl.DataFrame:
    """``failure_cases`` plus a ``rule`` column: :func:`tidegate_rule_id` as polars expressions."""
    check, column = pl.col("check"), pl.col("column")
    in_column = (pl.col("schema_context") == "Column") & column.is_not_null()
    rule = (
        pl.when(check == "column_in_dataframe")
        .then(pl.concat_str(pl.col("failure_case"), pl.lit(".missing")))
        .when(in_column.not_() & check.str.starts_with(ROW_RULE_PREFIX))
        .then(check)
        .when(in_column.not_())
        .then(pl.concat_str(pl.lit(ROW_RULE_PREFIX), check))
        .when(check == "not_nullable")
        .then(pl.concat_str(column, pl.lit(".not_null")))
        .when(check == "field_uniqueness")
        .then(pl.concat_str(column, pl.lit(".unique")))
        .when(check.str.starts_with("dtype("))
        .then(pl.concat_str(column, pl.lit(".type")))
        .when(check.str.starts_with(pl.concat_str(column, pl.lit("."))))
        .then(check)
        .otherwise(pl.concat_str(column, pl.lit("."), check))
    )
    return failure_cases.with_columns(rule.alias("rule"))


def _column(column: ColumnSpec, contract: Contract) -> pa.Column:
    dtype = polars_dtype(column)
    checks = [_check(spec, dtype) for spec in column.checks]
    if column.unique:
        checks.insert(0, _unique_check(column.name))
    nullable = is_nullable(column, contract)
    return pa.Column(dtype, nullable=nullable, unique=False, checks=checks, required=True)


def _unique_check(name: str) -> pa.Check:
    def unique(data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(unique_passes(data.key))

    return pa.Check(unique, name=f"{name}.unique", element_wise=False)


def _check(spec: CheckSpec, dtype: pl.DataType) -> pa.Check:
    on_column = passes(spec, dtype)  # built here: a bad check fails the compile, not a batch

    def check(data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(on_column(pl.col(data.key)).fill_null(True))

    return pa.Check(check, name=spec.rule_id, element_wise=False)
