"""A contract's own row checks as polars expressions over the *typed* frame.

Each is true where a row passes. :mod:`tidegate.contracts._pandera` wraps every one in
its pandera check, and the validation stage evaluates them all in one select to find
the rows pandera has something to say about (:mod:`tidegate.validate._prescreen`): the
same expressions, so the two can never disagree. Importing this module does not
import pandera.

A value check lets a null pass (``fill_null(True)``): a null is judged only by
``nullable``, which pandera checks itself (``not_nullable``, a NaN counting as a null
in a float column, as pandera counts it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from tidegate.contracts._model import CheckSpec, ColumnSpec, Contract
from tidegate.contracts._types import polars_dtype


@dataclass(frozen=True)
class RowCheck:
    """One rule of the contract's pandera schema as a boolean expression, true where a
    row passes. ``row_local``: a row's verdict depends on that row alone (every check
    kind but ``expr``, whose SQL may aggregate or look at other rows; ``unique`` looks
    at the rows sharing a value, which are all judged together)."""

    rule: str
    passes: pl.Expr
    row_local: bool = True


def is_nullable(column: ColumnSpec, contract: Contract) -> bool:
    """Whether ``column`` may hold a null: declared so, and not part of the key."""
    return column.nullable and column.name not in contract.primary_key


def not_null_passes(name: str, dtype: pl.DataType) -> pl.Expr:
    """pandera's own ``not_nullable`` (a NaN is a null in a float column)."""
    col = pl.col(name)
    if dtype in (pl.Float32, pl.Float64):
        return col.is_not_null() & col.is_not_nan()
    return col.is_not_null()


def unique_passes(name: str) -> pl.Expr:
    """``unique: true``: nulls are ignored (pandera's own ``unique`` counts repeated nulls)."""
    col = pl.col(name)
    return col.is_null() | col.is_duplicated().not_()


def value_check_passes(spec: CheckSpec, dtype: pl.DataType, name: str) -> pl.Expr:
    """A declared check on column ``name``; a row where it is null passes (the
    expression each of the contract's pandera checks selects)."""
    return passes(spec, dtype)(pl.col(name)).fill_null(True)


def row_checks(contract: Contract) -> list[RowCheck]:
    """Every row rule of the contract's own pandera schema: not-null, unique, checks."""
    checks: list[RowCheck] = []
    for column in contract.columns:
        dtype = polars_dtype(column)
        if not is_nullable(column, contract):
            checks.append(RowCheck(f"{column.name}.not_null", not_null_passes(column.name, dtype)))
        if column.unique:
            checks.append(RowCheck(f"{column.name}.unique", unique_passes(column.name)))
        for spec in column.checks:
            checks.append(
                RowCheck(
                    spec.rule_id,
                    value_check_passes(spec, dtype, column.name),
                    row_local=spec.kind != "expr",
                )
            )
    return checks


def passes(spec: CheckSpec, dtype: pl.DataType) -> Callable[[pl.Expr], pl.Expr]:
    """A function column-expression -> boolean expression, true where the value passes."""
    kind, args = spec.kind, spec.args
    if kind in ("ge", "gt", "le", "lt"):
        bound = _literal(args, dtype)
        return lambda col: getattr(col, kind)(bound)
    if kind == "between":
        lo, hi = _literal(args[0], dtype), _literal(args[1], dtype)
        return lambda col: col.is_between(lo, hi, closed="both")
    if kind in ("isin", "notin"):
        members = pl.Series(
            [_python_value(v, dtype) for v in args], dtype=_member_dtype(dtype), strict=False
        ).cast(dtype)
        if kind == "isin":
            return lambda col: col.is_in(members.implode())
        return lambda col: col.is_in(members.implode()).not_()
    if kind == "regex":
        return lambda col: col.str.contains(args)
    if kind == "str_length":
        lo, hi = args.get("min"), args.get("max")
        return lambda col: col.str.len_chars().is_between(
            lo if lo is not None else 0, hi if hi is not None else 2**62, closed="both"
        )
    if kind == "expr":
        expr = pl.sql_expr(args)
        return lambda col: expr
    raise ValueError(f"unknown check kind {kind!r} in {spec.rule_id}")


def _member_dtype(dtype: pl.DataType) -> pl.DataType | None:
    if isinstance(dtype, pl.Decimal):
        return pl.Float64()
    return dtype


def _python_value(value: Any, dtype: pl.DataType) -> Any:
    if dtype == pl.Date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if dtype == pl.Datetime and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if dtype == pl.Datetime and type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    return value


def _literal(value: Any, dtype: pl.DataType) -> pl.Expr:
    value = _python_value(value, dtype)
    return pl.lit(value, dtype=dtype) if dtype in (pl.Date, pl.Datetime) else pl.lit(value)
