"""Run the compiled contract lazily and collect every failure of every row.

The result is long-form: one row per (row, failed rule), with the rule id, the
column, the offending value and a message. Not a sample: every failing row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tidegate.batches import concat_failures
from tidegate.contracts._model import CheckSpec, Contract
from tidegate.errors import ConfigError
from tidegate.validate._cast import cast_frame


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


def check_message(check: CheckSpec) -> str:
    a = check.args
    match check.kind:
        case "ge" | "gt" | "le" | "lt":
            op = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[check.kind]
            return f"must be {op} {a}"
        case "between":
            return f"must be between {a[0]} and {a[1]}"
        case "isin":
            return f"must be one of {list(a)}"
        case "notin":
            return f"must not be one of {list(a)}"
        case "regex":
            return f"must match {a}"
        case "str_length":
            return f"length must be within {a}"
        case "expr":
            return f"must satisfy {a}"
    return f"failed {check.kind}"


def _messages(contract: Contract) -> dict[str, str]:
    messages: dict[str, str] = {}
    for c in contract.columns:
        messages[f"{c.name}.not_null"] = "is required but missing or a null token"
        messages[f"{c.name}.unique"] = "must be unique within the batch"
        for check in c.checks:
            messages[check.rule_id] = check_message(check)
    return messages


def _to_long_form(cases: pl.DataFrame, messages: dict[str, str]) -> pl.DataFrame:
    """pandera failure cases -> tidegate's long form, with stable rule ids."""
    from tidegate.contracts import with_rule_ids

    return with_rule_ids(cases).select(
        pl.col("index").cast(pl.UInt32).alias("_row"),
        "rule",
        "column",
        pl.col("failure_case").cast(pl.String).alias("value"),
        pl.col("rule")
        .replace_strict(messages, default=None, return_dtype=pl.String)
        .fill_null(pl.concat_str(pl.lit("failed "), pl.col("check")))
        .alias("message"),
    )


def _pandera_failures(typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    import pandera.errors
    import pandera.polars

    from tidegate.contracts._pandera import to_pandera_schemas

    frames: list[pl.DataFrame] = []
    data = typed.drop("_tidegate_record")
    for schema in to_pandera_schemas(contract):
        try:
            schema.validate(data, lazy=True)
            continue
        except pandera.errors.SchemaErrors as exc:
            cases: pl.DataFrame = exc.failure_cases
        unplaced = cases.filter(pl.col("index").is_null())
        if unplaced.height:
            first = unplaced.row(0, named=True)
            raise ConfigError(
                f"contract {contract.path}: check {first['check']!r} on column "
                f"{first['column']!r} failed for the batch as a whole "
                f"({first['failure_case']}); fix the contract or its model"
            )
        frames.append(_to_long_form(cases, _messages(contract)))
    return concat_failures(frames)


def validate(normalized: pl.DataFrame, contract: Contract) -> ValidatedBatch:
    """Cast, then run the compiled contract; never raises for bad data."""
    typed, type_failures = cast_frame(normalized, contract)
    checks = _pandera_failures(typed, contract)
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
