"""Test helpers: build contracts and raw batches in code, query the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tidegate.contracts import contract_from_dict
from tidegate.contracts._model import Contract
from tidegate.sources import RawBatch
from tidegate.store._connect import connect
from tidegate.store._location import Store


def make_contract(**overrides: Any) -> Contract:
    data: dict[str, Any] = {
        "source": "orders",
        "version": 1,
        "primary_key": ["order_id"],
        "normalize": {"null_values": ["", "N/A", "null"], "trim": True},
        "columns": {
            "order_id": {"type": "int64", "nullable": False},
            "status": {
                "type": "string",
                "normalize": {"lower": True},
                "checks": [{"isin": ["pending", "shipped"]}],
            },
            "amount": {
                "type": "decimal(12,2)",
                "normalize": {"strip": ["$", ","]},
                "checks": [{"ge": 0}],
            },
            "order_date": {"type": "date", "formats": ["%Y-%m-%d", "%d/%m/%Y"]},
        },
        "policy": {
            "on_row_failure": "quarantine",
            "on_existing_key": "update",
            "max_quarantine_ratio": 1.0,
        },
    }
    for key, value in overrides.items():
        data[key] = value
    return contract_from_dict(data)


def make_raw(
    rows: list[dict[str, str | None]],
    *,
    source: str = "orders",
    location: str = "mem.csv",
    sha: str = "a" * 64,
) -> RawBatch:
    columns = list(rows[0]) if rows else []
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.String for c in columns}
    ).with_columns(pl.int_range(2, len(rows) + 2, dtype=pl.Int64).alias("_tidegate_record"))
    return RawBatch(source=source, location=location, content_sha256=sha, frame=frame)


def query(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of one statement on either store backend (``?`` placeholders on both)."""
    if isinstance(store, Path):
        con = duckdb.connect(str(store), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()
    with connect(store) as pg:
        return list(pg.execute(sql, params or []).fetchall())


def scalar(store: Store, sql: str, params: list[Any] | None = None) -> Any:
    return query(store, sql, params)[0][0]


def _orders_model() -> type:
    import pandera.polars as pa

    class OrdersModel(pa.DataFrameModel):
        """Checks YAML cannot say: shipped orders must have an amount."""

        @pa.dataframe_check(name="shipped_needs_amount")
        @classmethod
        def shipped_needs_amount(cls, data: Any) -> Any:
            return data.lazyframe.select(
                ~((pl.col("status") == "shipped") & pl.col("amount").is_null())
            )

    return OrdersModel


OrdersModel = _orders_model()


def copy_store(template: Path, folder: Path, name: str = "tidegate.duckdb") -> Path:
    """A private copy of a store file, to change without touching the template."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / name
    shutil.copy(template, copy)
    return copy
