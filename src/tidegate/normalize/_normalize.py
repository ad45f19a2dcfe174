"""Apply a contract's normalization rules to a raw frame, counting changes per rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts._model import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_DATETIME_FORMATS,
    ColumnSpec,
    Contract,
)
from tidegate.normalize import _expressions as ex
from tidegate.normalize._headers import match_headers
from tidegate.rules import HEADER_RENAME_RULE

NUMERIC_TYPES = ("int64", "float64", "decimal")

CANONICAL_BOOL = "^(?:true|false)$"
CANONICAL_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CANONICAL_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$"

_TMP = "\x00tidegate.normalize:"  # prefix of scratch columns; never a header


@dataclass(frozen=True)
class NormalizedBatch:
    """A raw frame after normalization, with what each rule changed."""

    frame: pl.DataFrame  # contract columns in contract order, all String, plus RECORD_COLUMN
    rule_counts: dict[str, int]  # rule id -> values it changed (zero counts omitted)
    header_map: dict[str, str]  # header as found in the file -> contract column it feeds
    unknown_columns: tuple[str, ...]  # headers that feed no column (kept in the raw record)
    missing_columns: tuple[str, ...]  # contract columns absent from the file (all null)


@dataclass(frozen=True)
class Step:
    """One rule on one column: its id and how it rewrites the column's expression."""

    rule_id: str
    apply: Callable[[pl.Expr], pl.Expr]
    # For the final type step: a pattern that values already in canonical form match.
    # Such a step runs only on the rows that do not match (usually few), not on all.
    canonical: str | None = None


def null_tokens_for(column: ColumnSpec, contract: Contract) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*contract.normalize.null_values, *column.normalize.null_values)))


def column_steps(column: ColumnSpec, contract: Contract) -> list[Step]:
    """The steps the contract applies to one column, in the order they run."""
    rules = column.normalize
    do_trim = contract.normalize.trim if rules.trim is None else rules.trim
    tokens = null_tokens_for(column, contract)
    steps: list[Step] = []

    def add(kind: str, fn: Callable[[pl.Expr], pl.Expr], canonical: str | None = None) -> None:
        steps.append(Step(f"{column.name}.{kind}", fn, canonical))

    if do_trim:
        add("trim", ex.trim)
    if tokens:
        add("null_token", partial(ex.null_tokens, tokens=tokens))
    if rules.lower:
        add("lower", ex.lower)
    if rules.upper:
        add("upper", ex.upper)
    if rules.map:
        add("map", partial(ex.value_map, mapping=rules.map))
    if rules.strip:
        add(
            "strip",
            partial(ex.strip_substrings, substrings=rules.strip, retrim=do_trim, tokens=tokens),
        )
    base = column.base_type
    if base in NUMERIC_TYPES:
        add("number_format", ex.canonical_number, ex.NUMBER_PATTERN)
    elif base == "bool":
        add(
            "bool_format",
            partial(
                ex.canonical_bool,
                true_values=column.true_values,
                false_values=column.false_values,
            ),
            CANONICAL_BOOL,
        )
    elif base == "date":
        add(
            "date_format",
            partial(ex.canonical_date, formats=column.formats or DEFAULT_DATE_FORMATS),
            CANONICAL_DATE,
        )
    elif base == "datetime":
        add(
            "datetime_format",
            partial(ex.canonical_datetime, formats=column.formats or DEFAULT_DATETIME_FORMATS),
            CANONICAL_DATETIME,
        )
    return steps


def describe_rules(contract: Contract) -> list[str]:
    """Every rule id normalization could count for this contract, in the order they run."""
    rules = [HEADER_RENAME_RULE]
    for column in contract.columns:
        rules.extend(step.rule_id for step in column_steps(column, contract))
    return list(dict.fromkeys(rules))


def _apply_to_non_canonical(df: pl.DataFrame, name: str, step: Step) -> tuple[pl.DataFrame, int]:
    """Run a type step only on the values not already canonical; return (frame, values changed)."""
    assert step.canonical is not None
    column = df.get_column(name)
    todo = column.is_not_null() & ~column.str.contains(step.canonical)
    if not todo.any():
        return df, 0
    positions = todo.arg_true()
    before = column.gather(positions)
    after = before.to_frame(name).select(step.apply(pl.col(name))).to_series()
    changed = int(before.ne_missing(after).sum())
    if not changed:
        return df, 0
    return df.with_columns(column.clone().scatter(positions, after)), changed


def normalize(frame: pl.DataFrame, contract: Contract) -> NormalizedBatch:
    """Map headers onto the contract's columns and apply its normalization rules.

    ``frame`` is a raw batch frame (:class:`tidegate.sources.RawBatch`): one column
    per header plus ``_tidegate_record``. The result has exactly the contract's
    columns, in contract order, all String, plus ``_tidegate_record``; same rows in
    the same order. Bad values are never an error here: what a rule cannot make
    canonical is left for validation to flag.
    """
    if RECORD_COLUMN not in frame.columns:
        raise ValueError(
            f"normalize() needs the {RECORD_COLUMN!r} column of a raw batch; "
            f"the frame has {frame.columns}"
        )
    headers = [name for name in frame.columns if name != RECORD_COLUMN]
    match = match_headers(headers, contract)
    feeds = {column: header for header, column in match.header_map.items()}
    names = contract.column_names

    lf = frame.lazy().select(
        *[
            pl.col(feeds[name]).cast(pl.String).alias(name)
            if name in feeds
            else pl.lit(None, dtype=pl.String).alias(name)
            for name in names
        ],
        pl.col(RECORD_COLUMN),
    )

    # One round per step depth: compute each column's next value into a scratch
    # column, then record where it differs in a boolean flag column and move the
    # value back. All columns of a round run in parallel; flags are summed once.
    plan = {column.name: column_steps(column, contract) for column in contract.columns}
    subset_steps = {
        name: steps.pop() for name, steps in plan.items() if steps and steps[-1].canonical
    }
    flags: list[str] = []
    depth = max((len(steps) for steps in plan.values()), default=0)
    for i in range(depth):
        active = {name: steps[i] for name, steps in plan.items() if i < len(steps)}
        lf = lf.with_columns(
            [step.apply(pl.col(name)).alias(_TMP + name) for name, step in active.items()]
        )
        updates: list[pl.Expr] = []
        for name, step in active.items():
            updates.append(ex.changed(pl.col(name), pl.col(_TMP + name)).alias(_TMP + step.rule_id))
            updates.append(pl.col(_TMP + name).alias(name))
            flags.append(step.rule_id)
        lf = lf.with_columns(updates).drop([_TMP + name for name in active])

    df = lf.collect()
    rule_counts: dict[str, int] = {}
    if match.renamed:
        rule_counts[HEADER_RENAME_RULE] = match.renamed
    if flags:
        sums = df.select([pl.col(_TMP + rule).sum() for rule in flags]).row(0)
        rule_counts.update({rule: int(n) for rule, n in zip(flags, sums, strict=True) if n})
    for name, step in subset_steps.items():
        df, changed = _apply_to_non_canonical(df, name, step)
        if changed:
            rule_counts[step.rule_id] = changed
    return NormalizedBatch(
        frame=df.select(*names, RECORD_COLUMN),
        rule_counts=rule_counts,
        header_map=match.header_map,
        unknown_columns=match.unknown_columns,
        missing_columns=match.missing_columns,
    )
