"""The monitor's statistics of a held batch's loaded rows, from the frames in memory.

A batch whose every chunk was held (:mod:`tidegate.store._held_chunks`) loads the held
rows that passed with no finding and no exact repeat. Their statistics, the fields
:func:`tidegate.store._profiles.loaded_column_stats` reads back from the target, are
computed at the publication over the frames still in memory (polars), and kept in this
process by batch id until the monitor asks for them (a few batches at most; a batch
not found here is read back from the target as before).

The same statistics, on both stores, as a batch profiled in one piece has them
(:func:`tidegate.monitor.profile_batch`): a string column's distinct count exact up to
``EXACT_DISTINCT_ROWS`` loaded rows and polars' estimate (HyperLogLog) above; means
and spreads equal up to rounding. A float column holding a NaN or an infinity is left
to the store's SQL, whose aggregates treat them their own way.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts._model import ColumnSpec, Contract
from tidegate.store._held_rules import PASSED_COLUMN
from tidegate.store._profiles import EXACT_DISTINCT_ROWS, NUMERIC_TYPES, TOP_VALUES

KEPT_BATCHES = 8  # statistics kept for the monitor, newest batches
_kept: dict[str, tuple[frozenset[str], dict[str, dict[str, Any]]]] = {}


def _numeric(column: ColumnSpec) -> bool:
    return column.type in NUMERIC_TYPES or bool(column.decimal_precision_scale)


def held_loaded_stats(
    frames: list[pl.DataFrame], unloaded: pl.Series, contract: Contract, loaded: int
) -> dict[str, dict[str, Any]] | None:
    """The statistics of the held rows that loaded (passed, record not in ``unloaded``)
    by contract column, as :func:`loaded_column_stats` gives them; None when they are
    left to SQL (a NaN or infinity, or not ``loaded`` rows)."""
    pii = {c.name for c in contract.columns if c.pii}
    load = pl.concat([f.lazy() for f in frames], how="vertical_relaxed").filter(
        pl.col(PASSED_COLUMN) & ~pl.col(RECORD_COLUMN).is_in(unloaded.implode())
    )
    values = {
        c.name: pl.col(c.name).cast(pl.Float64) if _numeric(c) else pl.col(c.name)
        for c in contract.columns
    }
    load = load.select(v.alias(n) for n, v in values.items())
    exact = loaded <= EXACT_DISTINCT_ROWS
    picks: list[pl.Expr] = [pl.len().alias("_tg_rows")]
    for column in contract.columns:
        v = pl.col(column.name)
        picks.append(v.count().alias(f"{column.name}:count"))
        if _numeric(column) and column.name not in pii:
            picks += [
                v.mean().alias(f"{column.name}:mean"),
                v.std().alias(f"{column.name}:std"),
                v.min().alias(f"{column.name}:min"),
                v.max().alias(f"{column.name}:max"),
                v.is_finite().all().alias(f"{column.name}:finite"),
            ]
        elif column.type == "string":
            distinct = v.drop_nulls().n_unique() if exact else v.drop_nulls().approx_n_unique()
            picks.append(distinct.alias(f"{column.name}:distinct"))
    strings = [c.name for c in contract.columns if c.type == "string" and c.name not in pii]
    tops = [
        load.select(pl.col(name).alias("v"))
        .drop_nulls()
        .group_by("v")
        .agg(pl.len().alias("n"))
        .sort(["n", "v"], descending=[True, False])
        .head(TOP_VALUES)
        for name in strings
    ]
    row, *ranked = pl.collect_all([load.select(picks), *tops])
    got = row.row(0, named=True)
    if int(got.get("_tg_rows") or 0) != loaded:
        return None
    stats: dict[str, dict[str, Any]] = {}
    top = dict(zip(strings, ranked, strict=True))
    for column in contract.columns:
        name, count = column.name, int(got.get(f"{column.name}:count") or 0)
        if _numeric(column) and name not in pii:
            if not count:
                stats[name] = {"kind": "numeric", "count": 0}
                continue
            if not got[f"{name}:finite"]:
                return None
            std = got[f"{name}:std"] if count > 1 else None
            stats[name] = {
                "kind": "numeric",
                "count": count,
                "mean": float(got[f"{name}:mean"]),
                "std": None if std is None else float(std),
                "min": float(got[f"{name}:min"]),
                "max": float(got[f"{name}:max"]),
            }
        elif column.type == "string":
            stats[name] = {
                "kind": "string",
                "count": count,
                "n_distinct": int(got.get(f"{name}:distinct") or 0),
                **(
                    {"pii": True}
                    if name in pii
                    else {"top": [[str(v), int(n)] for v, n in top[name].iter_rows()]}
                ),
            }
        elif _numeric(column):  # pii: counts only, never a mean, minimum or maximum
            stats[name] = {"kind": "numeric", "count": count, "pii": True}
        else:
            stats[name] = {"kind": "other", "count": count}
    return stats


def remember_loaded_stats(
    batch_id: str, contract: Contract, stats: dict[str, dict[str, Any]]
) -> None:
    """Keep a published batch's statistics for its monitor step."""
    _kept.pop(batch_id, None)
    _kept[batch_id] = (frozenset(c.name for c in contract.columns if c.pii), stats)
    while len(_kept) > KEPT_BATCHES:
        _kept.pop(next(iter(_kept)))


def take_loaded_stats(
    batch_id: str, pii_columns: Collection[str]
) -> dict[str, dict[str, Any]] | None:
    """The statistics kept for ``batch_id`` (and forgotten), when they were computed with
    the ``pii`` columns the caller asks for; None otherwise."""
    kept = _kept.pop(batch_id, None)
    if kept is None or kept[0] != frozenset(pii_columns):
        return None
    return kept[1]
