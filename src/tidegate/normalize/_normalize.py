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
    # (value before, value after) -> True where the step changed the value.
    changed: Callable[[pl.Expr, pl.Expr], pl.Expr] = ex.changed


def null_tokens_for(column: ColumnSpec, contract: Contract) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*contract.normalize.null_values, *column.normalize.null_values)))


def column_steps(column: ColumnSpec, contract: Contract) -> list[Step]:
    """The steps the contract applies to one column, in the order they run."""
    rules = column.normalize
    do_trim = contract.normalize.trim if rules.trim is None else rules.trim
    tokens = null_tokens_for(column, contract)
    steps: list[Step] = []

    def add(
        kind: str,
        fn: Callable[[pl.Expr], pl.Expr],
        canonical: str | None = None,
        changed: Callable[[pl.Expr, pl.Expr], pl.Expr] = ex.changed,
    ) -> None:
        steps.append(Step(f"{column.name}.{kind}", fn, canonical, changed))

    if do_trim:
        add("trim", ex.trim, changed=ex.shortened)
    if tokens:
        add("null_token", partial(ex.null_tokens, tokens=tokens), changed=ex.nulled)
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
            changed=ex.shortened,
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


# The characters a value matching each canonical pattern is made of (ASCII only: the
# patterns match nothing else). A value already canonical is left as it is by every
# step that cannot touch these characters, which is what lets the screen below skip it.
CANONICAL_CHARS = {
    ex.NUMBER_PATTERN: frozenset("0123456789.-+eE"),
    CANONICAL_BOOL: frozenset("truefals"),
    CANONICAL_DATE: frozenset("0123456789-"),
    CANONICAL_DATETIME: frozenset("0123456789-T:."),
}


def _could_be(text: str, chars: frozenset[str]) -> bool:
    """Whether a value made only of ``chars`` could equal ``text``, exactly or case-
    insensitively (how null tokens match); False says for sure it cannot."""
    folded = {ch.lower() for ch in chars}
    return bool(text) and (set(text) <= chars or set(text.lower()) <= folded)


def untouched(column: ColumnSpec, contract: Contract) -> pl.Expr | None:
    """True for the values none of the column's steps changes, by a cheap test; None
    where the column has no such test (no canonical type step).

    The test: already canonical for the column's type, and none of what an earlier
    step acts on (a null token, a map key, a substring to strip, a letter of the wrong
    case) could be in such a value; where one could, the value is tested for it. Trim
    never acts on one: no whitespace is in CANONICAL_CHARS. Null is untouched too.
    False may be said of an untouched value (it then runs all the steps, to no effect);
    True is never said of a value a step would change.
    """
    steps = column_steps(column, contract)
    if not steps or steps[-1].canonical is None:
        return None
    chars = CANONICAL_CHARS[steps[-1].canonical]
    value = pl.col(column.name)
    rules = column.normalize
    ok = value.str.contains(steps[-1].canonical)
    tokens = [t for t in null_tokens_for(column, contract) if _could_be(t, chars)]
    if tokens:
        ok = ok & ~ex._is_null_token(value, tokens)
    if rules.lower and any("A" <= ch <= "Z" for ch in chars):
        ok = ok & ~value.str.contains("[A-Z]")
    if rules.upper and any("a" <= ch <= "z" for ch in chars):
        ok = ok & ~value.str.contains("[a-z]")
    keys = [k for k in rules.map or {} if k and set(k) <= chars]
    if keys:
        ok = ok & ~value.is_in(keys)
    for sub in rules.strip or ():
        if sub and set(sub) <= chars:
            ok = ok & ~value.str.contains(sub, literal=True)
    return ok.fill_null(True)


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


def _apply_steps(
    df: pl.DataFrame, plan: dict[str, list[Step]]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Run each column's steps on every row of ``df``; return (frame, values changed per rule).

    One round per step depth: compute each column's next value into a scratch column,
    then record where it changed in a boolean flag column and move the value back. All
    columns of a round run in parallel; flags are summed once. A final type step runs
    on the values not already canonical only.
    """
    plan = {name: list(steps) for name, steps in plan.items()}
    subset_steps = {
        name: steps.pop() for name, steps in plan.items() if steps and steps[-1].canonical
    }
    lf = df.lazy()
    flags: list[str] = []
    depth = max((len(steps) for steps in plan.values()), default=0)
    for i in range(depth):
        active = {name: steps[i] for name, steps in plan.items() if i < len(steps)}
        lf = lf.with_columns(
            [step.apply(pl.col(name)).alias(_TMP + name) for name, step in active.items()]
        )
        updates: list[pl.Expr] = []
        for name, step in active.items():
            updates.append(
                step.changed(pl.col(name), pl.col(_TMP + name)).alias(_TMP + step.rule_id)
            )
            updates.append(pl.col(_TMP + name).alias(name))
            flags.append(step.rule_id)
        lf = lf.with_columns(updates).drop([_TMP + name for name in active])
    counts: dict[str, int] = {}
    if flags:
        df = lf.collect()
        sums = df.select([pl.col(_TMP + rule).sum() for rule in flags]).row(0)
        counts.update({rule: int(n) for rule, n in zip(flags, sums, strict=True) if n})
        df = df.drop([_TMP + rule for rule in flags])
    for name, step in subset_steps.items():
        df, changed = _apply_to_non_canonical(df, name, step)
        if changed:
            counts[step.rule_id] = changed
    return df, counts


def _rule_order(plan: dict[str, list[Step]]) -> list[str]:
    """Rule ids in the order their counts are reported: step depth by step depth,
    then the final type steps (the order of one :func:`_apply_steps` over all columns)."""
    rounds = {
        name: steps[:-1] if steps and steps[-1].canonical else steps for name, steps in plan.items()
    }
    depth = max((len(steps) for steps in rounds.values()), default=0)
    order = [steps[i].rule_id for i in range(depth) for steps in rounds.values() if i < len(steps)]
    order += [steps[-1].rule_id for steps in plan.values() if steps and steps[-1].canonical]
    return order


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

    df = lf.collect()
    # Columns with a cheap test for values no step changes (typed columns, mostly
    # canonical already) run their steps on the rows that fail it only, gathered into a
    # small frame and scattered back; the others run on every row. Untouched values
    # count for no rule, so the counts are those of running every step on every row.
    plan = {column.name: column_steps(column, contract) for column in contract.columns}
    screens = {
        column.name: test
        for column in contract.columns
        if (test := untouched(column, contract)) is not None
    }
    df, counts = _apply_steps(
        df, {name: steps for name, steps in plan.items() if steps and name not in screens}
    )
    if screens:
        todo = df.select(~pl.all_horizontal(list(screens.values()))).to_series()
        if todo.any():
            positions = todo.arg_true()
            rows, sub_counts = _apply_steps(
                df.select(list(screens)).gather(positions), {name: plan[name] for name in screens}
            )
            counts.update(sub_counts)
            df = df.with_columns(
                df.get_column(name).clone().scatter(positions, rows.get_column(name))
                for name in screens
                if sub_counts.keys() & {step.rule_id for step in plan[name]}
            )
    rule_counts: dict[str, int] = {}
    if match.renamed:
        rule_counts[HEADER_RENAME_RULE] = match.renamed
    rule_counts.update({rule: counts[rule] for rule in _rule_order(plan) if rule in counts})
    return NormalizedBatch(
        frame=df.select(*names, RECORD_COLUMN),
        rule_counts=rule_counts,
        header_map=match.header_map,
        unknown_columns=match.unknown_columns,
        missing_columns=match.missing_columns,
    )
