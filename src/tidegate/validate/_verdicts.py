"""Cast, run every validation engine and collect every failure of every row.

The result is long-form: one row per (row, failed rule), with the rule id, the
column, the offending value and a message. Not a sample: every failing row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import Contract
from tidegate.validate._cast import cast_frame
from tidegate.validate._engines import engines_for
from tidegate.validate._storable import without_unstorable


@dataclass(frozen=True)
class ValidatedBatch:
    """The typed rows and the failures found in them.

    ``typed`` has the contract's columns in their declared types plus
    ``_tidegate_record``, in the same order as the normalized frame.
    ``failures`` has one row per failed rule per row: ``_row`` (position in
    ``typed``), ``rule``, ``column``, ``value``, ``message``.
    """

    typed: pl.DataFrame
    failures: pl.DataFrame

    @property
    def failing_rows(self) -> pl.Series:
        return self.failures["_row"].unique().sort()

    def rule_counts(self) -> dict[str, int]:
        """Number of failing rows per rule id."""
        if self.failures.is_empty():
            return {}
        counts = self.failures.group_by("rule").agg(pl.col("_row").n_unique().alias("n"))
        return {r: int(n) for r, n in counts.sort("rule").iter_rows()}


def validate(normalized: pl.DataFrame, contract: Contract) -> ValidatedBatch:
    """Cast, then run every engine that applies to the contract (pandera, and GX when
    it names a suite) and merge their failures; never raises for bad data.

    A value no store can hold (a NUL character) is a ``<column>.unstorable`` failure
    and null from then on, before the cast: the store never sees it."""
    storable, unstorable = without_unstorable(normalized, contract)
    typed, type_failures = cast_frame(storable, contract)
    type_failures = concat_failures([unstorable, type_failures])
    judged = _without_key_uniqueness(contract)
    checks = concat_failures([e.row_failures(typed, judged) for e in engines_for(contract)])
    if len(contract.primary_key) == 1:
        # In-batch repeats of the key are routed as duplicates, not as uniqueness failures.
        checks = checks.filter(pl.col("rule") != f"{contract.primary_key[0]}.unique")
    if type_failures.height and checks.height:
        # A value that failed its cast is null in `typed`: do not also report it as missing.
        shadow = type_failures.select("_row", "column")
        not_null = checks.filter(pl.col("rule").str.ends_with(".not_null"))
        checks = pl.concat(
            [
                checks.filter(~pl.col("rule").str.ends_with(".not_null")),
                not_null.join(shadow, on=["_row", "column"], how="anti"),
            ]
        )
    failures = concat_failures([type_failures, checks]).sort(["_row", "column", "rule"])
    return ValidatedBatch(typed=typed, failures=failures)


def _without_key_uniqueness(contract: Contract) -> Contract:
    """The contract the engines judge rows by: a single-column key's ``unique`` is not
    checked, since its in-batch repeats are routed as duplicates and a uniqueness
    failure of it would be dropped (as one an engine reports anyway is)."""
    if len(contract.primary_key) != 1:
        return contract
    (key,) = contract.primary_key
    columns = tuple(replace(c, unique=False) if c.name == key else c for c in contract.columns)
    return replace(contract, columns=columns) if columns != contract.columns else contract
