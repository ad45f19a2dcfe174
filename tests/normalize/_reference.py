"""normalize() as it was before the screened fast path (issue 16), kept as the reference
the fast path is compared with: every step on every row, one round per step depth,
changes counted by comparing each step's value before and after."""

from __future__ import annotations

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts import Contract
from tidegate.normalize import NormalizedBatch, Step, column_steps
from tidegate.normalize import _expressions as ex
from tidegate.normalize._headers import match_headers
from tidegate.rules import HEADER_RENAME_RULE

_TMP = "\x00tidegate.normalize:"


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


def reference_normalize(frame: pl.DataFrame, contract: Contract) -> NormalizedBatch:
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
