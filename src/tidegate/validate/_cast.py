"""Cast canonical strings (the output of normalization) to the contract's types.

A value that cannot be cast is a row failure (rule ``<column>.type``), not a crash.
"""

from __future__ import annotations

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import ColumnSpec, Contract

CANONICAL_DATETIME = "%Y-%m-%dT%H:%M:%S%.f"


def cast_expr(column: ColumnSpec, *, check_places: bool = True) -> pl.Expr:
    """Expression turning the canonical string column into its declared type (null on failure).

    A decimal with more decimal places than its scale (other than trailing zeros) is a
    failure, not rounded; ``check_places=False`` leaves that check out, for a column
    where no value can have them (:func:`_may_have_extra_places`)."""
    col = pl.col(column.name)
    ps = column.decimal_precision_scale
    if ps:
        precision, scale = ps
        if not check_places:
            return col.cast(pl.Decimal(precision, scale), strict=False)
        too_precise = col.str.contains(rf"\.\d{{{scale}}}\d*[1-9]")
        return (
            pl.when(too_precise)
            .then(pl.lit(None, dtype=pl.Decimal(precision, scale)))
            .otherwise(col.cast(pl.Decimal(precision, scale), strict=False))
        )
    match column.type:
        case "int64":
            return col.cast(pl.Int64, strict=False)
        case "float64":
            return col.cast(pl.Float64, strict=False)
        case "bool":
            return col.replace_strict(
                {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
            )
        case "date":
            return col.str.to_date("%Y-%m-%d", strict=False)
        case "datetime":
            return col.str.to_datetime(CANONICAL_DATETIME, strict=False, time_unit="us")
        case _:
            return col


def type_message(column: ColumnSpec) -> str:
    ps = column.decimal_precision_scale
    if ps:
        return f"not a decimal with at most {ps[0]} digits and {ps[1]} decimal places"
    return {
        "int64": "not a whole number",
        "float64": "not a number",
        "bool": "not a boolean (see the column's true_values/false_values)",
        "date": "not a date in any declared format",
        "datetime": "not a datetime in any declared format",
    }.get(column.type, f"not a {column.type}")


def _may_have_extra_places(frame: pl.DataFrame, columns: list[ColumnSpec]) -> set[str]:
    """The decimal columns with a value that may have more decimal places than the
    scale: more than ``scale + 1`` bytes from its first ``.`` on. The places check (a
    regex) needs a ``.`` followed by at least ``scale + 1`` digits, so a column with no
    such value cannot fail it, and skips it (one cheap scan instead of a regex)."""
    decimals = {c.name: ps[1] for c in columns if (ps := c.decimal_precision_scale)}
    if not decimals or frame.is_empty():
        return set()
    found = frame.select(
        (pl.col(name).str.len_bytes() - pl.col(name).str.find(".", literal=True) > scale + 1).any()
        for name, scale in decimals.items()
    )
    return {name for name, hit in zip(decimals, found.row(0), strict=True) if hit}


def cast_frame(frame: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (typed frame, type failures in long form: _row, rule, column, value, message)."""
    checked = _may_have_extra_places(frame, list(contract.columns))
    typed = frame.select(
        *(cast_expr(c, check_places=c.name in checked).alias(c.name) for c in contract.columns),
        pl.col("_tidegate_record"),
    )
    failures = []
    for c in contract.columns:
        if c.type == "string":
            continue
        # A cast turns a null into a null: no value failed unless the cast made more.
        if typed[c.name].null_count() == frame[c.name].null_count():
            continue
        failed = frame[c.name].is_not_null() & typed[c.name].is_null()
        if not failed.any():
            continue
        rows = frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), pl.col(c.name).alias("value")
        ).filter(failed)
        failures.append(
            rows.select(
                "_row",
                pl.lit(f"{c.name}.type").alias("rule"),
                pl.lit(c.name).alias("column"),
                "value",
                pl.lit(type_message(c)).alias("message"),
            )
        )
    return typed, concat_failures(failures)
