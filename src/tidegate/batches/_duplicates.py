"""Exact duplicates of a batch, one row each: which record repeats which earlier one.

Both commit paths make these rows the same way (a batch routed in one piece in
``route``, a file read in chunks at its publication in ``store``), from the typed
values of each repeated row, so that the ``duplicates`` table holds the same rows for
any chunk size: the record, the first record with that key, the key's values and a
hash of the row's values (the same for a duplicate and the row it repeats).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from tidegate._duplicate_keys import key_text, row_hash

DUPLICATE_SCHEMA = {
    "record": pl.Int64,
    "first_record": pl.Int64,
    "key_values": pl.String,
    "row_hash": pl.String,
}


def duplicate_rows(
    rows: Iterable[tuple[int, int, Sequence[Any]]],
    columns: Sequence[str],
    key: Sequence[str],
) -> pl.DataFrame:
    """``(record, first_record, values in column order)`` -> the duplicates frame."""
    at = [list(columns).index(k) for k in key]
    out: dict[str, list[Any]] = {name: [] for name in DUPLICATE_SCHEMA}
    for record, first, values in rows:
        out["record"].append(int(record))
        out["first_record"].append(int(first))
        out["key_values"].append(key_text(key, [values[i] for i in at]))
        out["row_hash"].append(row_hash(values))
    return pl.DataFrame(out, schema=DUPLICATE_SCHEMA)


def no_duplicates() -> pl.DataFrame:
    return pl.DataFrame(schema=DUPLICATE_SCHEMA)
