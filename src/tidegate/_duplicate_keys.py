"""A duplicate's key as text and the hash of its row's values, without polars.

The batch side writes them into the ``duplicates`` table
(:mod:`tidegate.batches._duplicates`); ``audit trace`` spells a key the same way to
find its duplicates, and imports no data package for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any


def plain_value(value: Any) -> Any:
    """A value as JSON holds it: decimals, dates and times as their text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # decimals, dates and times: their text, the same on every backend


def row_hash(values: Sequence[Any]) -> str:
    """sha256 of a row's typed values, in contract column order."""
    text = json.dumps([plain_value(v) for v in values], separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def key_text(names: Sequence[str], values: Sequence[Any]) -> str:
    """The key of a row as JSON text, ``{"order_id": "1001"}`` (values as text)."""
    pairs = {
        n: None if v is None else str(plain_value(v)) for n, v in zip(names, values, strict=True)
    }
    return json.dumps(pairs, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
