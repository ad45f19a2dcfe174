"""The whole-batch rules of a batch whose every chunk is held in memory, in polars.

When nothing of a file was staged (every chunk held, :mod:`tidegate.store._held_chunks`),
the rules that span the whole batch (:meth:`tidegate.store._staging.Publication.find_batch_rules`)
are found over the held frames instead of in SQL, row for row the same findings: values
of a ``unique`` column (or a uniqueness expectation's columns) repeated across chunks,
then primary keys repeated anywhere among the rows that passed, an exact repeat (every
column the same, nulls equal) a duplicate and any other repeat a finding against the
key's first record.

Equal values are found by sorting and comparing neighbours: over millions of rows a
sort of integers that come nearly in order (a key of integers, as read) costs a
fraction of a hash join or group-by. Other values (strings, several columns) are
sorted by a 64-bit hash of them; two different values with the same hash (a collision)
would be taken for one, so each repeat is checked against its run's first row, and on
a mismatch the rules give up (None) and the publication finds them in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts._model import Contract
from tidegate.rules import DUPLICATE_KEY_RULE

CHUNK_COLUMN = "_tidegate_chunk"
PASSED_COLUMN = "_tidegate_passed"
_HASH = "_tg_hash"
_ROW = "_tg_row"
_FIRST = "_tg_first"  # the row (in sorted order) that starts a row's run of equal values
_LAST = "_tg_last"
_AT = "_tg_at"  # a row's position in the held rows
FINDINGS_SCHEMA = {
    "record": pl.Int64,
    "rule": pl.String,
    "col": pl.String,
    "first_record": pl.Int64,
}


@dataclass(frozen=True)
class HeldRules:
    """What the whole-batch rules found: the findings (record, rule, col, first_record)
    and the exact repeats (record, first_record and the contract's columns)."""

    findings: pl.DataFrame
    exact: pl.DataFrame


def held_frame(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The held chunks' typed rows as one frame (no copy where their types agree)."""
    if not frames:
        return pl.DataFrame()
    try:
        return pl.concat(frames, rechunk=False)
    except pl.exceptions.SchemaError:  # a column typed differently by one chunk
        return pl.concat(frames, how="vertical_relaxed", rechunk=False)


def _hashed(columns: list[str]) -> pl.Expr:
    """A 64-bit hash of the values of ``columns`` (nulls hash alike)."""
    value = pl.col(columns[0]) if len(columns) == 1 else pl.struct(columns)
    return value.hash(seed=0)


def _sorted_as_is(frame: pl.DataFrame, columns: list[str]) -> bool:
    """One column of integers, decimals, dates or times: sorted by its own values (cheap
    when they come nearly in order, as keys do; equal values adjacent, no collision)."""
    if len(columns) != 1:
        return False
    dtype = frame.schema[columns[0]]
    return dtype.is_integer() or dtype.is_temporal() or isinstance(dtype, pl.Decimal)


def _runs(frame: pl.DataFrame, columns: list[str], then: str) -> pl.DataFrame:
    """The rows of ``frame`` in runs of equal values of ``columns`` (by value, or by a
    hash of it when the rows only repeat one another rarely), each run's rows in the
    order of ``then``: each row's position in ``frame`` (``_tg_row``), its ``then``, and
    the positions in ``frame`` of the first and last rows of its run. A value hashed
    keeps only the runs of two rows or more (a lone row is neither a repeat nor
    repeated), and two values with one hash (a collision) share a run."""
    row = pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW)
    if _sorted_as_is(frame, columns):
        keyed = frame.select(row, pl.col(columns[0]).alias(_HASH), then)
    else:  # sorted by the hash alone first: only the repeated ones are sorted by ``then``
        keyed = frame.select(row, _hashed(columns).alias(_HASH), then).sort(_HASH)
        lone = _starts() & _ends()
        keyed = keyed.filter(~lone)
    ordered = keyed.sort([_HASH, then])
    return ordered.select(
        _ROW,
        then,
        pl.when(_starts()).then(pl.col(_ROW)).forward_fill().alias(_FIRST),
        pl.when(_ends()).then(pl.col(_ROW)).backward_fill().alias(_LAST),
    )


def _starts() -> pl.Expr:
    return pl.col(_HASH).ne_missing(pl.col(_HASH).shift(1)).fill_null(True)


def _ends() -> pl.Expr:
    return pl.col(_HASH).ne_missing(pl.col(_HASH).shift(-1)).fill_null(True)


def _same(frame: pl.DataFrame, rows: pl.Series, firsts: pl.Series, columns: list[str]) -> pl.Series:
    """Per pair, whether ``columns`` of ``frame``'s rows ``rows`` and ``firsts`` are
    equal (nulls equal)."""
    if rows.is_empty():
        return pl.Series([], dtype=pl.Boolean)
    a, b = frame.select(columns)[rows], frame.select(columns)[firsts]
    pairs = pl.DataFrame(
        [a.get_column(c).alias(f"a{i}") for i, c in enumerate(columns)]
        + [b.get_column(c).alias(f"b{i}") for i, c in enumerate(columns)]
    )
    same = pl.all_horizontal(
        pl.col(f"a{i}").eq_missing(pl.col(f"b{i}")) for i in range(len(columns))
    )
    return pairs.select(same).to_series()


def _repeats_across_chunks(
    held: pl.DataFrame, rule: str, columns: tuple[str, ...]
) -> pl.DataFrame | None:
    """A uniqueness rule's findings: every row (passed or not) whose value of
    ``columns`` (nulls equal, all-null rows skipped) more than one chunk holds, one
    finding per column. None: a hash collision."""
    names = list(columns)
    some = pl.any_horizontal(pl.col(c).is_not_null() for c in names)
    rows = held.select(*names, RECORD_COLUMN, CHUNK_COLUMN).filter(some)
    runs = _runs(rows, names, CHUNK_COLUMN)
    chunks = rows.get_column(CHUNK_COLUMN)
    spread = _spread(runs, chunks)
    if not _same(rows, spread.get_column(_ROW), spread.get_column(_FIRST), names).all():
        return None
    records = rows.get_column(RECORD_COLUMN).gather(spread.get_column(_ROW)).alias("record")
    return pl.concat(
        records.to_frame().with_columns(
            pl.lit(rule, pl.String).alias("rule"),
            pl.lit(c, pl.String).alias("col"),
            pl.lit(None, pl.Int64).alias("first_record"),
        )
        for c in names
    )


def _spread(runs: pl.DataFrame, chunks: pl.Series) -> pl.DataFrame:
    """The rows of ``runs`` whose run's first and last rows are of different chunks."""
    first = chunks.gather(runs.get_column(_FIRST))
    last = chunks.gather(runs.get_column(_LAST))
    return runs.filter(first != last)


def _key_repeats(
    held: pl.DataFrame, contract: Contract, found: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """Primary keys repeated among the rows that passed and have no finding yet
    (``found``): the findings of repeats with other values and the exact repeats, each
    beside its key's first record. Rows with a null in the key never repeat (as in SQL,
    where null equals nothing). None: a hash collision."""
    key = list(contract.primary_key)
    names = list(contract.column_names)
    keyed = held.select(pl.int_range(pl.len(), dtype=pl.Int64).alias(_AT), *key, RECORD_COLUMN)
    keyed = keyed.filter(
        held.get_column(PASSED_COLUMN)
        & ~held.get_column(RECORD_COLUMN).is_in(found.implode())
        & held.select(pl.all_horizontal(pl.col(k).is_not_null() for k in key)).to_series()
    )
    runs = _runs(keyed, key, RECORD_COLUMN)
    repeats = runs.filter(pl.col(_ROW) != pl.col(_FIRST))
    at = keyed.get_column(_AT)  # positions in ``held``
    rows, firsts = at.gather(repeats.get_column(_ROW)), at.gather(repeats.get_column(_FIRST))
    if not _same(held, rows, firsts, key).all():
        return None
    exact = _same(held, rows, firsts, names)
    pairs = held.select(pl.col(RECORD_COLUMN).alias("record"), *names)[rows].with_columns(
        held.get_column(RECORD_COLUMN).gather(firsts).alias("first_record")
    )
    findings = pairs.filter(~exact).select(
        "record",
        pl.lit(DUPLICATE_KEY_RULE, pl.String).alias("rule"),
        pl.lit(None, pl.String).alias("col"),
        "first_record",
    )
    return findings, pairs.filter(exact).select("record", "first_record", *names)


def held_batch_rules(frames: list[pl.DataFrame], contract: Contract) -> HeldRules | None:
    """The whole-batch rules over the held chunks' typed rows (each frame: the contract's
    columns, record, passed and chunk number), in the order the SQL runs them; None when
    a hash collision leaves them to SQL."""
    held = held_frame(frames)
    key = contract.primary_key
    findings = [pl.DataFrame(schema=FINDINGS_SCHEMA)]
    rules: list[tuple[str, tuple[str, ...]]] = [
        (f"{c.name}.unique", (c.name,)) for c in contract.columns if c.unique and key != (c.name,)
    ]
    if contract.expectations:
        rules += [(s.rule_id, s.columns) for s in contract.expectations.uniqueness]
    for rule, columns in rules:
        found = _repeats_across_chunks(held, rule, columns)
        if found is None:
            return None
        findings.append(found)
    names = list(contract.column_names)
    exact = pl.DataFrame(
        schema={"record": pl.Int64, "first_record": pl.Int64, **held.select(names).schema}
    )
    if key:
        records = pl.concat(findings).get_column("record")
        repeats = _key_repeats(held, contract, records)
        if repeats is None:
            return None
        findings.append(repeats[0])
        exact = repeats[1]
    return HeldRules(pl.concat(findings), exact)


def newly_failing(frames: list[pl.DataFrame], findings: pl.DataFrame) -> int:
    """Held rows that passed their chunk's checks but have a finding."""
    held = held_frame(frames)
    if held.is_empty():
        return 0
    records = findings.get_column("record").implode()
    moved = held.get_column(PASSED_COLUMN) & held.get_column(RECORD_COLUMN).is_in(records)
    return int(moved.sum())
