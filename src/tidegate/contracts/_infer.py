"""Infer a starter contract (YAML text) from a frame of raw string columns.

The guess is a starting point for a person to review, never a contract to trust.
Each column's guess (:mod:`tidegate.contracts._infer_columns`) says what normalization
would make its values parse (date formats, currency and thousands separators, null
tokens, boolean tokens), proposes checks from what was seen (``isin`` for repeated
text, ranges for numbers, not null) and why; a unique, never-null column is proposed
as the primary key. Rows the reader could not use (ragged rows) are counted, not
dropped silently.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from tidegate.contracts._fields import IDENTIFIER_RE, IDENTIFIER_TEXT
from tidegate.contracts._infer_columns import NULL_TOKENS, ColumnGuess, guess_column
from tidegate.contracts._infer_yaml import render_contract
from tidegate.contracts._store_names import source_name_refusal, storable_column_name
from tidegate.errors import ContractError

__all__ = ["NULL_TOKENS", "Inference", "infer", "infer_contract", "snake_case"]

DEFAULT_MAX_QUARANTINE_RATIO = 0.05


@dataclass(frozen=True)
class Inference:
    source: str
    rows: int  # rows the guess was made from
    columns: tuple[ColumnGuess, ...]
    primary_key: tuple[str, ...]
    primary_key_why: str
    null_values: tuple[str, ...]
    skipped: tuple[tuple[int, str], ...]  # (record, reason) of rows not used: ragged rows
    yaml: str

    @property
    def notes(self) -> list[str]:
        """File-level findings for a person, one line each."""
        out = self.skipped_notes
        if self.primary_key:
            out.append(f"primary_key {', '.join(self.primary_key)}: {self.primary_key_why}")
        else:
            out.append("no primary key proposed: no unique, never-null id-like column")
        return out

    @property
    def skipped_notes(self) -> list[str]:
        """What the sample held that the guess could not use (ragged rows)."""
        out = []
        if self.skipped:
            lines = ", ".join(str(r) for r, _ in self.skipped[:10])
            more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
            reasons = sorted({reason.split(":")[0] for _, reason in self.skipped})
            out.append(
                f"{len(self.skipped)} row(s) not used for the guess ({', '.join(reasons)}; "
                f"record {lines}{more}); `tidegate run` quarantines them"
            )
        return out


def snake_case(header: str) -> str:
    """``OrderID`` -> ``order_id``, ``order date`` -> ``order_date``, ``2019`` -> ``col_2019``."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if text and text[0].isdigit():
        text = f"col_{text}"
    return text


def _column_names(headers: list[str]) -> dict[str, str]:
    """header -> unique snake_case column name; headers already in snake case keep their name."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    ordered = [h for h in headers if snake_case(h) == h] + [
        h for h in headers if snake_case(h) != h
    ]
    for header in ordered:
        base = storable_column_name(snake_case(header) or f"column_{headers.index(header) + 1}")
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        names[header] = name
        taken.add(name)
    return {h: names[h] for h in headers}


def _primary_key(columns: Sequence[ColumnGuess]) -> tuple[tuple[str, ...], str]:
    named = [c for c in columns if c.key_like and c.key_named]
    if named:
        return (named[0].name,), "proposed: unique and never null, and named like a key"
    if columns and columns[0].key_like:
        return (columns[0].name,), "proposed: the first column, unique and never null"
    return (), ""


def _hold_ratio(inf: Inference) -> float:
    """5%, or more when the sample's own unusable rows (ragged) already pass that: a run
    of the sample file itself must not be held. At most 1 (every row unusable: a file
    read with the wrong delimiter)."""
    rows_in = inf.rows + len(inf.skipped)
    if not rows_in:
        return DEFAULT_MAX_QUARANTINE_RATIO
    seen = len(inf.skipped) / rows_in
    return min(1.0, max(DEFAULT_MAX_QUARANTINE_RATIO, math.ceil((seen + 0.05) * 100) / 100))


def infer(
    frame: pl.DataFrame,
    source: str,
    *,
    skipped: Sequence[tuple[int, str]] = (),
    origin: str = "",
) -> Inference:
    """The guess for ``source`` from a frame of raw (string) columns, with the YAML.

    ``skipped`` lists (record, reason) of rows the reader could not use (ragged rows);
    they are counted in the report and the YAML. ``origin`` names the sample file."""
    if not IDENTIFIER_RE.match(source):
        raise ContractError("<infer>", "source", source, IDENTIFIER_TEXT)
    unstorable = source_name_refusal(source)
    if unstorable:
        raise ContractError("<infer>", "source", source, unstorable, hint="pass --source NAME")
    names = _column_names(frame.columns)
    columns = [guess_column(frame.get_column(h), h, names[h]) for h in frame.columns]
    primary_key, pk_why = _primary_key(columns)
    for c in columns:
        c.spec["nullable"] = c.nulls > 0
        if c.name in primary_key:
            c.spec["unique"] = True
            c.why += "; primary key"
    tokens = sorted({"", *(t for c in columns for t in c.tokens)})
    partial = Inference(
        source=source,
        rows=frame.height,
        columns=tuple(columns),
        primary_key=primary_key,
        primary_key_why=pk_why,
        null_values=tuple(tokens),
        skipped=tuple(skipped),
        yaml="",
    )
    rename = {h: n for h, n in names.items() if h != n}
    text = render_contract(partial, rename=rename, ratio=_hold_ratio(partial), origin=origin)
    return dataclasses.replace(partial, yaml=text)


def infer_contract(frame: pl.DataFrame, source: str) -> str:
    """Starter contract YAML for ``source`` from a frame of raw (string) columns."""
    return infer(frame, source).yaml
