"""A small statistics profile of one routed batch, computed with polars expressions.

The profile is plain JSON::

    {"format": 1, "rows_in": 26, "loaded": 15, "quarantined": 10, "held": false,
     "headers": ["OrderID", "STATUS", ...],          # the input's header, as read
     "columns": {"amount": {"null_rate": 0.08, "kind": "numeric", "count": 14,
                            "mean": 1093.2, "std": 3180.1, "min": 0.0, "max": 12000.0},
                 "status": {"null_rate": 0.0, "kind": "string", "count": 15,
                            "n_distinct": 3, "top": [["shipped", 8], ...]},
                 "promo":  {"unknown": true, ...}}}  # a header that feeds no column

Contract columns: the null rate is over every parsed row of the input (after the
contract's null tokens), the other statistics over the rows that loaded (typed).
Headers that feed no contract column are profiled from the raw values, so a new
column can be compared with a missing one ("renamed?").

No personal data is copied into a profile. Columns the contract marks ``pii`` keep
counts only (a numeric one no mean, minimum or maximum either: a phone number stored
as a number is still a phone number). Headers the contract does not declare keep no
values at all (:func:`undeclared`): counts, null rate and distinct count, no mean,
minimum or maximum (the mean of an account number is close to one), and the most
common values of a column that looks like categories as digests (``top_digests``),
which is enough to tell that a new header holds what a missing column used to
("renamed?").
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, RoutedBatch
from tidegate.store._profiles import EXACT_DISTINCT_ROWS

PROFILE_FORMAT = 1
TOP_VALUES = 20
CATEGORY_SHARE = 0.5  # categorical: at most TOP_VALUES distinct values, at most half the count


def _numeric(series: pl.Series, *, pii: bool = False) -> dict[str, Any]:
    values = series.cast(pl.Float64).drop_nulls()
    if values.is_empty():
        return {"kind": "numeric", "count": 0}
    if pii:  # never copy personal data into the profile: counts only
        return {"kind": "numeric", "count": values.len(), "pii": True}
    stats = values.to_frame("v").select(
        pl.len().alias("count"),
        pl.col("v").mean().alias("mean"),
        pl.col("v").std().alias("std"),
        pl.col("v").min().alias("min"),
        pl.col("v").max().alias("max"),
    )
    row = stats.row(0, named=True)
    return {"kind": "numeric", **row}


def _strings(series: pl.Series, *, pii: bool = False) -> dict[str, Any]:
    values = series.drop_nulls()
    # exact up to EXACT_DISTINCT_ROWS values, an estimate above (as the store's statistics)
    distinct = values.n_unique() if values.len() <= EXACT_DISTINCT_ROWS else _approx(values)
    out: dict[str, Any] = {"kind": "string", "count": values.len(), "n_distinct": distinct}
    if pii:  # never copy personal data into the profile: counts only
        return {**out, "pii": True}
    top = (
        values.to_frame("v")
        .group_by("v")
        .agg(pl.len().alias("n"))
        .sort(["n", "v"], descending=[True, False])
        .head(TOP_VALUES)
    )
    return {**out, "top": [[v, int(n)] for v, n in top.iter_rows()]}


def value_digest(value: object) -> str:
    """A short digest of a value as drift compares values (trimmed, lower-cased): what
    an undeclared column keeps of its most common values."""
    text = str(value).strip().lower().encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def undeclared(stats: dict[str, Any]) -> dict[str, Any]:
    """The statistics of a header the contract does not declare, without its values: no
    mean, std, minimum or maximum, the top values as digests (:func:`value_digest`)
    with their counts."""
    out = {k: v for k, v in stats.items() if k not in ("mean", "std", "min", "max", "top")}
    if "top" in stats:
        out["top_digests"] = [[value_digest(v), n] for v, n in stats["top"]]
    return out


def _approx(values: pl.Series) -> int:
    """The distinct count of many values, estimated (HyperLogLog)."""
    return int(values.to_frame("v").select(pl.col("v").approx_n_unique()).item())


def _null_rates(frame: pl.DataFrame, columns: list[str]) -> dict[str, float]:
    if not columns or frame.height == 0:
        return {}
    row = frame.select(pl.col(c).is_null().mean().alias(c) for c in columns).row(0)
    return {c: float(r) for c, r in zip(columns, row, strict=True)}


def _contract_column(
    load: pl.DataFrame, name: str, null_rate: float, *, pii: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {"null_rate": null_rate}
    if name not in load.columns:
        return out
    series = load.get_column(name)
    if series.dtype.is_numeric():
        out.update(_numeric(series, pii=pii))
    elif series.dtype == pl.String:
        out.update(_strings(series, pii=pii))
    else:
        out.update({"kind": "other", "count": series.len() - series.null_count()})
    return out


def _unknown_column(raw: pl.DataFrame, header: str) -> dict[str, Any]:
    """Profile a header that feeds no column from its raw text (trimmed, "" is null)."""
    trimmed = pl.col(header).cast(pl.String).str.strip_chars()
    text = raw.select(pl.when(trimmed != "").then(trimmed).alias(header)).get_column(header)
    out: dict[str, Any] = {"unknown": True, "null_rate": text.null_count() / max(text.len(), 1)}
    numbers = text.cast(pl.Float64, strict=False)
    present = text.len() - text.null_count()
    if present and numbers.len() - numbers.null_count() == present:
        out.update(_numeric(numbers))
    else:
        distinct, count = text.n_unique() - (text.null_count() > 0), present
        categorical = distinct <= TOP_VALUES and distinct <= CATEGORY_SHARE * count
        out.update(_strings(text, pii=not categorical))
    return undeclared(out)


def profile_batch(routed: RoutedBatch, *, pii_columns: Collection[str] = ()) -> dict[str, Any]:
    """The profile of one routed batch (see the module docstring for its fields).

    String columns in ``pii_columns`` keep counts only, never their values.
    """
    headers = [c for c in routed.raw_frame.columns if c != RECORD_COLUMN]
    missing = set(routed.missing_columns)
    normalized = routed.normalized_frame
    contract_columns = [c for c in normalized.columns if c != RECORD_COLUMN and c not in missing]
    null_rates = _null_rates(normalized, contract_columns)
    columns: dict[str, dict[str, Any]] = {
        c: _contract_column(routed.load, c, null_rates.get(c, 0.0), pii=c in pii_columns)
        for c in contract_columns
    }
    for header in routed.unknown_columns:
        if header in routed.raw_frame.columns and header not in columns:
            columns[header] = _unknown_column(routed.raw_frame, header)
    return {
        "format": PROFILE_FORMAT,
        "rows_in": routed.rows_in,
        "loaded": routed.loaded,
        "quarantined": routed.quarantined,
        "held": routed.held is not None,
        "headers": headers,
        "columns": columns,
    }
