"""Values no store can hold: found before any store sees them, so the same data has the
same outcome whatever the store.

PostgreSQL refuses a NUL character (``\\x00``) in text, and a COPY with one in it fails
the whole batch, on every later run too. A NUL may come in through a JSON ``\\u0000``
escape, a Parquet string or a CSV field. A value with one is a row failure (rule
``<column>.unstorable``): its record is quarantined with the reason and the value is
null in the typed frame (as a value that failed its cast), so nothing the store is
handed holds it; the raw record is kept as JSON, where the NUL is the escape ``\\u0000``.
"""

from __future__ import annotations

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import Contract

NUL = "\x00"
UNSTORABLE_SUFFIX = ".unstorable"
_JOIN_LIMIT = 2**31  # bytes: a column's values are joined to be searched below it
UNSTORABLE_MESSAGE = (
    "contains a NUL character (\\x00), which PostgreSQL cannot store: "
    "remove it from the record (quarantine edit) and replay it, or fix the source"
)


def without_unstorable(
    frame: pl.DataFrame, contract: Contract
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frame`` (normalized, string columns) with every value no store can hold made
    null, and those values as failures in long form (``_row``, ``rule``, ``column``,
    ``value``, ``message``). One scan of every string column of the contract at once."""
    columns = [
        c.name
        for c in contract.columns
        if c.name in frame.columns and frame.schema[c.name] == pl.String
    ]
    if not columns or frame.is_empty():
        return frame, concat_failures([])
    hit = _holding_nul(frame, columns)
    if not hit:
        return frame, concat_failures([])
    found = frame.select(pl.col(hit).str.contains(NUL, literal=True).fill_null(False))
    failures = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
            *(pl.when(found[c]).then(pl.col(c)).alias(c) for c in hit),
        )
        .unpivot(index="_row", on=hit, variable_name="column", value_name="value")
        .drop_nulls("value")
        .select(
            "_row",
            (pl.col("column") + UNSTORABLE_SUFFIX).alias("rule"),
            "column",
            "value",
            pl.format("{} {}", "column", pl.lit(UNSTORABLE_MESSAGE)).alias("message"),
        )
        .sort("_row", "column")
    )
    cleaned = frame.with_columns(pl.when(~found[c]).then(pl.col(c)).alias(c) for c in hit)
    return cleaned, concat_failures([failures])


def _holding_nul(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    """The ``columns`` with a NUL in some value. A column's values joined hold a NUL
    when one of them does: one search in one string per column (copying the values is
    cheaper than searching each of them). A column too long to join into one string
    (a polars string holds less than 4 GiB) is searched value by value."""
    sizes = frame.select(pl.col(columns).str.len_bytes().sum()).row(0)
    joinable = [c for c, size in zip(columns, sizes, strict=True) if size < _JOIN_LIMIT]
    held = frame.select(
        *(pl.col(c).str.join("").str.contains(NUL, literal=True) for c in joinable),
        *(pl.col(c).str.contains(NUL, literal=True).any() for c in columns if c not in joinable),
    ).row(0, named=True)
    return [c for c in columns if held[c]]
