"""A batch's profile computed incrementally, chunk by chunk, for a file read in chunks.

The profile has the fields :func:`tidegate.monitor.profile_batch` gives a batch held in
memory (see :mod:`tidegate.monitor._profile`). What can be added up chunk by chunk is
added up here (:class:`ProfileParts`): the header, each contract column's null count,
and the statistics of headers that feed no column (their raw text). The statistics of
the loaded rows are computed by the store over the batch's target rows once it is
published (one aggregate query, not a Python set of every value).

Counts, means and standard deviations are exact (means and variances merged with
Chan's parallel formula); the number of distinct values of an unknown column is exact
up to :data:`SKETCH_SIZE` values and a K-minimum-values estimate above that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.monitor._profile import CATEGORY_SHARE, PROFILE_FORMAT, TOP_VALUES, undeclared

SKETCH_SIZE = 4096
_HASH_SPACE = float(2**64)


@dataclass
class _Moments:
    """count, mean, sum of squared deviations, min and max, merged chunk by chunk."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float | None = None
    high: float | None = None

    def add(self, values: pl.Series) -> None:
        values = values.drop_nulls()
        n = values.len()
        if n == 0:
            return
        mean = float(values.mean())  # type: ignore[arg-type]
        m2 = float(((values - mean) ** 2).sum())
        delta, total = mean - self.mean, self.count + n
        self.m2 += m2 + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.count = total
        low, high = float(values.min()), float(values.max())  # type: ignore[arg-type]
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def as_profile(self) -> dict[str, Any]:
        if self.count == 0:
            return {"kind": "numeric", "count": 0}
        std = math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else None
        return {
            "kind": "numeric",
            "count": self.count,
            "mean": self.mean,
            "std": std,
            "min": self.low,
            "max": self.high,
        }


@dataclass
class _UnknownColumn:
    """A header that feeds no contract column, profiled from its raw text."""

    rows: int = 0
    nulls: int = 0
    numeric: bool = True  # every present value so far parses as a number
    moments: _Moments = field(default_factory=_Moments)
    counts: dict[str, int] | None = field(default_factory=dict)  # while <= TOP_VALUES distinct
    sketch: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.UInt64))

    def add_nulls(self, n: int) -> None:
        self.rows += n
        self.nulls += n

    def add(self, raw: pl.Series) -> None:
        trimmed = raw.cast(pl.String).str.strip_chars()
        text = trimmed.filter(trimmed != "")
        self.rows += raw.len()
        self.nulls += raw.len() - text.len()
        if text.is_empty():
            return
        numbers = text.cast(pl.Float64, strict=False)
        if self.numeric and numbers.null_count() == 0:
            self.moments.add(numbers)
        else:
            self.numeric = False
        hashes = pl.concat([self.sketch, text.hash(seed=0).unique()]).unique().sort()
        self.sketch = hashes.head(SKETCH_SIZE)
        if self.counts is not None:
            for value, n in text.value_counts().iter_rows():
                self.counts[value] = self.counts.get(value, 0) + int(n)
            if len(self.counts) > TOP_VALUES:
                self.counts = None  # not a category: counts only from here on

    def distinct(self) -> int:
        if self.sketch.len() < SKETCH_SIZE:
            return self.sketch.len()
        kth = float(self.sketch[-1]) / _HASH_SPACE
        return round((SKETCH_SIZE - 1) / kth) if kth > 0 else SKETCH_SIZE

    def as_profile(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unknown": True, "null_rate": self.nulls / max(self.rows, 1)}
        present = self.rows - self.nulls
        if present and self.numeric:
            return undeclared({**out, **self.moments.as_profile()})
        distinct = self.distinct()
        categorical = distinct <= TOP_VALUES and distinct <= CATEGORY_SHARE * present
        out.update({"kind": "string", "count": present, "n_distinct": distinct})
        if not categorical or self.counts is None:
            return {**out, "pii": True}
        top = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]
        return undeclared({**out, "top": [[v, n] for v, n in top]})


@dataclass
class ProfileParts:
    """What a batch's profile adds up chunk by chunk (see the module docstring)."""

    headers: dict[str, None] = field(default_factory=dict)
    rows: int = 0  # parsed rows (normalized), the null rates' denominator
    nulls: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, _UnknownColumn] = field(default_factory=dict)

    def add(
        self, raw: pl.DataFrame, normalized: pl.DataFrame, unknown_columns: tuple[str, ...]
    ) -> None:
        """Add one chunk: its raw frame, its normalized frame and the headers it had
        that feed no column."""
        for header in raw.columns:
            if header != RECORD_COLUMN:
                self.headers.setdefault(header)
        columns = [c for c in normalized.columns if c != RECORD_COLUMN]
        for column in columns:
            self.nulls.setdefault(column, 0)
        if columns and normalized.height:
            counts = normalized.select(pl.col(c).is_null().sum() for c in columns).row(0)
            for column, n in zip(columns, counts, strict=True):
                self.nulls[column] = self.nulls.get(column, 0) + int(n)
        for header in unknown_columns:
            if header in raw.columns and header not in self.unknown:
                self.unknown[header] = _UnknownColumn()
                self.unknown[header].add_nulls(self.rows)  # absent from earlier chunks
        for header, stats in self.unknown.items():
            if header in raw.columns:
                stats.add(raw.get_column(header))
            else:
                stats.add_nulls(raw.height)
        self.rows += normalized.height

    def finish(self, missing_columns: tuple[str, ...]) -> dict[str, Any]:
        """The chunk-wise part of the profile, plain JSON: headers, null rates, unknown
        columns (see :func:`tidegate.monitor.assemble_profile`)."""
        rates = {
            c: (n / self.rows if self.rows else 0.0)
            for c, n in self.nulls.items()
            if c not in missing_columns
        }
        return {
            "headers": list(self.headers),
            "null_rates": rates,
            "unknown": {h: c.as_profile() for h, c in self.unknown.items()},
        }


def assemble_profile(
    parts: dict[str, Any],
    loaded_stats: dict[str, dict[str, Any]],
    *,
    rows_in: int,
    loaded: int,
    quarantined: int,
    held: bool,
) -> dict[str, Any]:
    """The profile of a streamed batch: the chunk-wise ``parts`` and the store's
    statistics of the loaded rows (``loaded_stats``, by contract column)."""
    columns: dict[str, dict[str, Any]] = {
        c: {"null_rate": rate, **loaded_stats.get(c, {})} for c, rate in parts["null_rates"].items()
    }
    for header, column in parts["unknown"].items():
        columns.setdefault(header, column)
    return {
        "format": PROFILE_FORMAT,
        "rows_in": rows_in,
        "loaded": loaded,
        "quarantined": quarantined,
        "held": held,
        "headers": parts["headers"],
        "columns": columns,
    }
