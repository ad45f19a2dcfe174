"""The two frame shapes every stage agrees on: failures and quarantine rows.

A *failure* frame is long-form, one row per (row, failed rule): ``_row`` (position in
the batch), ``rule``, ``column``, ``value``, ``message``. A *quarantine* frame holds
the raw record as read, the normalized record and every error, all three JSON text,
encoded with polars expressions (no Python loop per row).
"""

from __future__ import annotations

import polars as pl

from tidegate.batches._raw import RECORD_COLUMN, RecordReject
from tidegate.rules import (
    INVALID_JSON_RULE,
    NOT_OBJECT_RULE,
    RAGGED_ROW_RULE,
    UNREADABLE_ROW_RULE,
)

FAILURE_SCHEMA = {
    "_row": pl.UInt32,
    "rule": pl.String,
    "column": pl.String,
    "value": pl.String,
    "message": pl.String,
}

QUARANTINE_SCHEMA = {
    "record": pl.Int64,
    "raw": pl.String,
    "normalized": pl.String,
    "errors": pl.String,
    "rules": pl.String,
}


def concat_failures(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Failure frames stacked into one (an empty failure frame for none)."""
    if not frames:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    return pl.concat([f.cast(FAILURE_SCHEMA) for f in frames], how="vertical")  # type: ignore[arg-type]


def _row_json(frame: pl.DataFrame, name: str) -> pl.Expr:
    cols = [c for c in frame.columns if c != RECORD_COLUMN]
    if not cols:
        return pl.lit("{}").alias(name)
    return pl.struct([pl.col(c).cast(pl.String) for c in cols]).struct.json_encode().alias(name)


def visible_nul(column: str) -> pl.Expr:
    """``column`` with each NUL character written ``\\x00``: an error's text is read as
    JSON by the store's queries (PostgreSQL's ``jsonb`` refuses a ``\\u0000``), and a
    reader sees where the NUL was. The raw record keeps it (JSON ``\\u0000``, text)."""
    return pl.col(column).str.replace_all("\x00", "\\x00", literal=True)


def errors_by_row(failures: pl.DataFrame) -> pl.DataFrame:
    """Long-form failures -> one row per failing row: _row, errors (JSON list), rules."""
    error_json = pl.struct(
        "rule", "column", visible_nul("value"), visible_nul("message")
    ).struct.json_encode()
    return (
        failures.sort(["_row", "column", "rule"], nulls_last=True)
        .group_by("_row", maintain_order=True)
        .agg(
            pl.concat_str(pl.lit("["), error_json.str.join(","), pl.lit("]")).alias("errors"),
            pl.col("rule").unique(maintain_order=True).sort().str.join(",").alias("rules"),
        )
    )


def quarantine_rows(
    raw: pl.DataFrame, normalized: pl.DataFrame, failures: pl.DataFrame
) -> pl.DataFrame:
    """Quarantine rows for the positions named in ``failures._row``.

    ``raw`` and ``normalized`` are aligned row by row (same order, same height).
    """
    if failures.is_empty():
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    per_row = errors_by_row(failures)
    rows = per_row["_row"]
    raw_part = raw[rows].select(
        pl.col(RECORD_COLUMN).cast(pl.Int64).alias("record"), _row_json(raw, "raw")
    )
    norm_part = normalized[rows].select(_row_json(normalized, "normalized"))
    return pl.concat(
        [raw_part, norm_part, per_row.select("errors", "rules")], how="horizontal"
    ).select(list(QUARANTINE_SCHEMA))


def reject_rule(reason: str) -> str:
    lowered = reason.lower()
    if lowered.startswith("ragged"):
        return RAGGED_ROW_RULE
    if "not valid json" in lowered:
        return INVALID_JSON_RULE
    if "not a json object" in lowered:
        return NOT_OBJECT_RULE
    return UNREADABLE_ROW_RULE


def reject_rows(rejects: tuple[RecordReject, ...]) -> pl.DataFrame:
    """Record-level read failures (ragged rows, bad JSON lines) as quarantine rows."""
    if not rejects:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    frame = pl.DataFrame(
        {
            "record": [r.record for r in rejects],
            "text": [r.raw for r in rejects],
            "rule": [reject_rule(r.reason) for r in rejects],
            "message": [r.reason for r in rejects],
        },
        schema={"record": pl.Int64, "text": pl.String, "rule": pl.String, "message": pl.String},
    )
    error = pl.struct(
        "rule",
        pl.lit(None, dtype=pl.String).alias("column"),
        visible_nul("text").str.slice(0, 200).alias("value"),
        visible_nul("message"),
    ).struct.json_encode()
    return frame.select(
        "record",
        pl.struct("text").struct.json_encode().alias("raw"),
        pl.lit(None, dtype=pl.String).alias("normalized"),
        pl.concat_str(pl.lit("["), error, pl.lit("]")).alias("errors"),
        pl.col("rule").alias("rules"),
    )
