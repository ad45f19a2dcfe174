"""Route one chunk of a streamed batch: the rows that passed their own checks, the rows
that did not, and (on the second pass) the rows a whole-batch rule moved.

A chunk is routed without the rules that need the whole batch (primary keys repeated
in another chunk, ``unique`` across chunks, the hold): those run over the staged rows
in the store, and their findings come back here, by record number, on the second pass
(:func:`route_chunk` with ``findings``), so that a moved row's quarantine entry carries
every error, its values exactly as read, like a row routed in one piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tidegate.batches import (
    RECORD_COLUMN,
    RawBatch,
    concat_failures,
    quarantine_rows,
    reject_rows,
)
from tidegate.contracts._model import Contract
from tidegate.normalize import NormalizedBatch, header_finding
from tidegate.route._split import with_header_finding, with_raw_values
from tidegate.rules import DUPLICATE_KEY_RULE, EXISTING_KEY_RULE, HELD_RULE
from tidegate.validate import ValidatedBatch

PASSED = "_tidegate_passed"
UNIQUE_MESSAGE = "must be unique within the batch"
EXISTING_KEY_MESSAGE = "key already loaded by an earlier batch and on_existing_key is quarantine"


@dataclass(frozen=True)
class RoutedChunk:
    """One chunk's rows: ``typed`` (every parsed row, typed, with ``_tidegate_passed``)
    and ``quarantine`` (the failing rows and the records that could not be read)."""

    typed: pl.DataFrame
    quarantine: pl.DataFrame
    rows_in: int


def _finding_failures(
    findings: pl.DataFrame, typed: pl.DataFrame, contract: Contract
) -> pl.DataFrame:
    """Findings (record, rule, column, first_record) as failure rows of this chunk."""
    key = contract.primary_key
    suite = contract.expectations
    # a GX uniqueness expectation's rows repeated across chunks: its own message
    messages = {s.rule_id: f"failed {s.describe()}" for s in suite.uniqueness} if suite else {}
    positions = typed.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        pl.col(RECORD_COLUMN).cast(pl.Int64).alias("record"),
        *(
            [
                pl.concat_str(
                    [pl.concat_str(pl.lit(f"{k}="), pl.col(k).cast(pl.String)) for k in key],
                    separator=", ",
                ).alias("_key")
            ]
            if key
            else [pl.lit(None, dtype=pl.String).alias("_key")]
        ),
    )
    joined = findings.join(positions, on="record", how="inner")
    rule = pl.col("rule")
    return joined.select(
        "_row",
        "rule",
        "column",
        pl.when(rule == DUPLICATE_KEY_RULE).then(pl.col("_key")).otherwise(None).alias("value"),
        pl.when(rule == DUPLICATE_KEY_RULE)
        .then(
            pl.format(
                "key {} already seen at record {} of this batch with different values",
                "_key",
                "first_record",
            )
        )
        .when(rule == EXISTING_KEY_RULE)
        .then(pl.lit(EXISTING_KEY_MESSAGE))
        .otherwise(rule.replace_strict(messages, default=UNIQUE_MESSAGE, return_dtype=pl.String))
        .alias("message"),
    )


def route_chunk(
    raw: RawBatch,
    normalized: NormalizedBatch,
    validated: ValidatedBatch,
    contract: Contract,
    *,
    findings: pl.DataFrame | None = None,
    repeats: pl.Series | None = None,
    held: str | None = None,
) -> RoutedChunk:
    """Route one chunk by its own checks; on the second pass, also by the batch's
    ``findings`` (rows a whole-batch rule failed), ``repeats`` (records that are exact
    repeats of an earlier key: neither loaded nor quarantined) and ``held`` (every
    other row is quarantined with the reason the batch is held)."""
    typed = validated.typed
    failures = validated.failures
    if findings is not None and findings.height:
        failures = concat_failures([failures, _finding_failures(findings, typed, contract)])
    finding = header_finding(normalized.unknown_columns, normalized.missing_columns)
    failures = with_header_finding(failures, normalized.missing_columns, finding)
    failures = with_raw_values(failures, raw.frame, normalized.header_map)
    if findings is not None and findings.height:  # a chunk's own `unique` failure and the batch's
        failures = failures.unique(["_row", "rule", "column"], keep="first", maintain_order=True)
    repeated = (
        typed.get_column(RECORD_COLUMN).cast(pl.Int64).is_in(repeats.implode())
        if repeats is not None and repeats.len()
        else pl.Series([False] * typed.height, dtype=pl.Boolean)
    )
    if held:
        others = pl.DataFrame(
            {"_row": pl.int_range(typed.height, dtype=pl.UInt32, eager=True)}
        ).filter(~repeated)
        failures = concat_failures(
            [
                failures,
                others.select(
                    "_row",
                    pl.lit(HELD_RULE).alias("rule"),
                    pl.lit(None, dtype=pl.String).alias("column"),
                    pl.lit(None, dtype=pl.String).alias("value"),
                    pl.lit(held).alias("message"),
                ),
            ]
        )
    rows = pl.int_range(typed.height, dtype=pl.UInt32, eager=True)
    failing = rows.is_in(failures["_row"].unique().implode())
    staged = typed.with_columns((~failing & ~repeated).alias(PASSED))
    quarantine = pl.concat(
        [
            quarantine_rows(raw.frame, normalized.frame, failures),
            reject_rows(raw.rejects),
        ]
    )
    return RoutedChunk(staged, quarantine, raw.rows_in)
