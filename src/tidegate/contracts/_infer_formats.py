"""Which strptime formats make a column of date or datetime text parse.

Each candidate format is tried on every distinct value at once (polars expressions);
the formats are then chosen greedily, the one that parses most of the values not yet
parsed first, until every value parses. Normalization tries a column's formats in the
order declared and keeps the first that parses, so a value that two formats read
differently (``01/02/2024``: day first or month first) is read by the format that
parsed more of the column, and the guess says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%Y%m%d",
)
_TIMES = ("%H:%M:%S", "%H:%M")
DATETIME_FORMATS = (
    *(f"%Y-%m-%dT{t}" for t in _TIMES),
    *(f"%Y-%m-%d {t}" for t in _TIMES),
    *(f"{d} {t}" for d in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d") for t in _TIMES),
)
# Pairs that read some values differently: day first or month first.
_AMBIGUOUS = tuple({f"%d/%m/%Y{t}", f"%m/%d/%Y{t}"} for t in ("", *(f" {time}" for time in _TIMES)))


@dataclass(frozen=True)
class FormatGuess:
    formats: tuple[str, ...]  # in the order normalization should try them; () for ISO only
    note: str  # why, for a person ("" when nothing to say)


def choose_formats(values: pl.Series, kind: str) -> FormatGuess | None:
    """The formats that together parse every value of ``values`` (distinct, non-null
    text), or None when no combination of the candidates does."""
    from tidegate.normalize._expressions import ISO_DATETIME_INPUT_FORMATS  # lazily: a stage

    candidates = DATE_FORMATS if kind == "date" else DATETIME_FORMATS
    dtype = pl.Date() if kind == "date" else pl.Datetime("us")
    if values.len() == 0:
        return None
    col = pl.col("v")
    parsed = values.to_frame("v").select(
        [
            col.str.strptime(dtype, f, strict=False).is_not_null().alias(str(i))
            for i, f in enumerate(candidates)
        ]
    )
    ok = {candidates[int(c)]: parsed.get_column(c) for c in parsed.columns}
    # datetime: ISO 8601 (fractions, offsets) is always tried after a column's formats
    implicit = values.to_frame("v").select(
        pl.any_horizontal(
            [
                col.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC").is_not_null()
                for f in (ISO_DATETIME_INPUT_FORMATS if kind == "datetime" else ())
            ]
            or [pl.lit(False)]
        )
    )
    left = ~implicit.to_series()
    if not (parsed.select(pl.any_horizontal(pl.all())).to_series() | ~left).all():
        return None
    chosen: list[str] = []
    while left.any():
        best = max(candidates, key=lambda f: int((ok[f] & left).sum()))
        if not (ok[best] & left).any():
            return None
        chosen.append(best)
        left = left & ~ok[best]
    notes = []
    for pair in (p for p in _AMBIGUOUS if p <= ok.keys()):
        picked = [f for f in chosen if f in pair]
        both_parse = [f for f in pair if ok[f].any()]
        if len(picked) == 1 and len(both_parse) == 2:
            other = (pair - set(picked)).pop()
            notes.append(
                f"{picked[0]} parses {int(ok[picked[0]].sum())} of {values.len()} distinct "
                f"values, {other} only {int(ok[other].sum())}: day/month read as {picked[0]}"
            )
        elif len(picked) == 2:
            notes.append(
                f"both {picked[0]} and {picked[1]} are needed: a value both parse is read "
                f"as {picked[0]}; check the source"
            )
    return FormatGuess(tuple(chosen), "; ".join(notes))
