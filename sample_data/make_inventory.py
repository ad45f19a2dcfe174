"""Write the inventory sample files with polars, reproducibly.

Run from anywhere: ``python sample_data/make_inventory.py``.

- ``inventory/inventory.parquet``: 24 rows with native Parquet types (sku and
  warehouse strings, on_hand Int64, unit_cost Decimal(10,2), last_counted
  Datetime(us)) and four deliberate mess rows; see ``sample_data/README.md``.
- ``inventory/inventory_truncated.parquet``: the first half of the bytes of
  ``inventory.parquet`` (no footer), which no Parquet reader can open: it must
  become one file-level quarantine entry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent

# (sku, warehouse, on_hand, unit_cost, last_counted); row offset = list index (0-based)
ROWS: list[tuple[str | None, str, int, str | None, datetime | None]] = [
    ("SKU-00001", "AMS", 120, "4.50", datetime(2024, 3, 1, 8, 0)),
    ("SKU-00002", "AMS", 0, "12.00", datetime(2024, 3, 1, 8, 5)),
    ("SKU-00003", "BER", 35, "7.25", datetime(2024, 3, 1, 9, 0)),
    ("SKU-00004", "BER", 8, "150.00", datetime(2024, 3, 1, 9, 10)),
    ("SKU-00005", "LON", 410, "0.99", datetime(2024, 3, 2, 7, 30)),
    ("SKU-00006", "LON", -3, "3.10", datetime(2024, 3, 2, 7, 45)),  # 5: on_hand.ge
    ("SKU-00007", "NYC", 60, "22.40", datetime(2024, 3, 2, 14, 0)),
    ("SKU-00008", "NYC", 12, "9.99", datetime(2024, 3, 2, 14, 20)),
    ("SKU-00009", "AMS", 5, "1.25", datetime(2024, 3, 3, 8, 0)),
    ("SKU-123", "BER", 10, "2.00", datetime(2024, 3, 3, 8, 15)),  # 9: sku.regex
    ("SKU-00011", " ber", 22, "6.60", datetime(2024, 3, 3, 8, 30)),  # 10: trim + upper
    ("SKU-00012", "LON", 77, None, datetime(2024, 3, 3, 10, 0)),  # 11: null unit_cost, ok
    ("SKU-00013", "MAD", 14, "5.00", datetime(2024, 3, 4, 11, 0)),  # 12: warehouse.isin
    ("SKU-00014", "NYC", 3, "48.00", datetime(2024, 3, 4, 11, 30)),
    ("SKU-00015", "AMS", 250, "0.35", datetime(2024, 3, 4, 12, 0)),
    (None, "LON", 9, "11.00", datetime(2024, 3, 5, 9, 0)),  # 15: sku.not_null
    ("SKU-00017", "ams", 40, "2.75", datetime(2024, 3, 5, 9, 30)),  # 16: upper, ok
    ("SKU-00018", "BER", 41, "19.90", datetime(2024, 3, 5, 10, 0)),
    ("SKU-00019", "LON", 6, "75.00", datetime(2024, 3, 6, 8, 0)),
    ("SKU-00020", "NYC", 0, "3.30", datetime(2024, 3, 6, 8, 30)),
    ("SKU-00021", "AMS", 18, "8.80", None),  # 20: null last_counted, ok
    ("SKU-00022", "BER", 27, "13.13", datetime(2024, 3, 6, 16, 0)),
    ("SKU-00023", "LON", 13, "6.05", datetime(2024, 3, 7, 7, 0)),
    ("SKU-00024", "NYC", 90, "1.10", datetime(2024, 3, 7, 7, 15)),
]


def build() -> pl.DataFrame:
    sku, warehouse, on_hand, unit_cost, last_counted = zip(*ROWS, strict=True)
    return pl.DataFrame(
        {
            "sku": pl.Series(sku, dtype=pl.Utf8),
            "warehouse": pl.Series(warehouse, dtype=pl.Utf8),
            "on_hand": pl.Series(on_hand, dtype=pl.Int64),
            "unit_cost": pl.Series(
                [Decimal(v) if v is not None else None for v in unit_cost],
                dtype=pl.Decimal(10, 2),
            ),
            "last_counted": pl.Series(last_counted, dtype=pl.Datetime("us")),
        }
    )


def main() -> None:
    out = HERE / "inventory"
    out.mkdir(parents=True, exist_ok=True)
    full = out / "inventory.parquet"
    build().write_parquet(full, compression="zstd", statistics=True)
    data = full.read_bytes()
    (out / "inventory_truncated.parquet").write_bytes(data[: len(data) // 2])


if __name__ == "__main__":
    main()
