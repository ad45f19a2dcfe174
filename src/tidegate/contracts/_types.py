"""Contract column types and their polars dtypes (the typed frame pandera validates)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tidegate.contracts._model import SIMPLE_TYPES, ColumnSpec

if TYPE_CHECKING:
    import polars as pl

TYPE_ALIASES = {"int": "int64", "float": "float64", "str": "string"}
NUMERIC_TYPES = ("int64", "float64", "decimal")
TEMPORAL_TYPES = ("date", "datetime")
VALID_TYPES_TEXT = (
    "one of int64 (int), float64 (float), decimal(p,s) with 1<=p<=38 and 0<=s<=p, "
    "string (str), bool, date, datetime"
)

_DECIMAL_LOOSE = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def canonical_type(declared: str) -> str | None:
    """The canonical spelling of a declared type, or None when it is not a valid type."""
    text = declared.strip().lower()
    text = TYPE_ALIASES.get(text, text)
    if text in SIMPLE_TYPES:
        return text
    m = _DECIMAL_LOOSE.match(text)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        if 1 <= precision <= 38 and 0 <= scale <= precision:
            return f"decimal({precision},{scale})"
    return None


def base_type(type_name: str) -> str:
    """``decimal`` for any ``decimal(p,s)``, else the type itself."""
    return "decimal" if type_name.startswith("decimal") else type_name


def polars_dtype(column: ColumnSpec | str) -> pl.DataType:
    """The polars dtype a column has in the typed frame (after normalize casts it)."""
    import polars as pl

    type_name = column.type if isinstance(column, ColumnSpec) else column
    simple: dict[str, pl.DataType] = {
        "int64": pl.Int64(),
        "float64": pl.Float64(),
        "string": pl.String(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
    }
    if type_name in simple:
        return simple[type_name]
    m = _DECIMAL_LOOSE.match(type_name)
    if m:
        return pl.Decimal(int(m.group(1)), int(m.group(2)))
    raise ValueError(f"not a contract column type: {type_name!r}")
