"""Helpers for the normalize tests: build contracts and raw frames in code (no loader)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN
from tidegate.contracts import ColumnNormalize, ColumnSpec, Contract, ContractNormalize
from tidegate.normalize import NormalizedBatch


def col(name: str, type: str = "string", **kwargs: Any) -> ColumnSpec:
    """A column; ``normalize=`` may be a dict of ColumnNormalize fields."""
    rules = kwargs.pop("normalize", None)
    if isinstance(rules, Mapping):
        rules = ColumnNormalize(**rules)
    if rules is not None:
        kwargs["normalize"] = rules
    return ColumnSpec(name=name, type=type, **kwargs)


def contract(
    *columns: ColumnSpec,
    rename: Mapping[str, str] | None = None,
    null_values: Iterable[str] = ("",),
    trim: bool = True,
) -> Contract:
    return Contract(
        source="test",
        version=1,
        content_hash="0" * 64,
        path="<memory>",
        columns=tuple(columns),
        normalize=ContractNormalize(
            rename=dict(rename or {}), null_values=tuple(null_values), trim=trim
        ),
    )


def raw(data: Mapping[str, list[str | None]], first_record: int = 2) -> pl.DataFrame:
    """A raw batch frame: String columns as read, plus the record column (line numbers)."""
    frame = pl.DataFrame(dict(data), schema={name: pl.String for name in data})
    return frame.with_columns(
        pl.int_range(first_record, first_record + frame.height, dtype=pl.Int64).alias(RECORD_COLUMN)
    )


def values(batch: NormalizedBatch, column: str) -> list[str | None]:
    return batch.frame.get_column(column).to_list()
