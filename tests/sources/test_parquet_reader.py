"""The Parquet reader: every column as its string form, corrupt files rejected."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl

from tidegate.sources import RECORD_COLUMN, FileReject, RawBatch
from tidegate.sources._parquet import read_parquet_bytes
from tidegate.sources._text import FileInfo

INFO = FileInfo("orders", "orders.parquet", "0" * 64)


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def test_round_trip_casts_every_column_to_text() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, None],
            "amount": pl.Series([Decimal("12.50"), Decimal("0.01")], dtype=pl.Decimal(12, 2)),
            "ratio": [0.5, 2.0],
            "ok": [True, False],
            "day": [dt.date(2024, 1, 2), None],
            "at": [dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 5, 120000)],
            "name": ["Zoë", ""],
            "tags": [["a", "b"], None],
            "point": [{"x": 1, "y": "p"}, None],
        }
    )
    batch = read_parquet_bytes(_parquet(frame), INFO)
    assert isinstance(batch, RawBatch)
    assert batch.fmt == "parquet" and batch.rejects == ()
    assert all(dtype == pl.String for dtype in batch.frame.drop(RECORD_COLUMN).dtypes)
    assert batch.frame[RECORD_COLUMN].to_list() == [0, 1]
    assert batch.frame.drop(RECORD_COLUMN).to_dicts() == [
        {
            "id": "1",
            "amount": "12.50",
            "ratio": "0.5",
            "ok": "true",
            "day": "2024-01-02",
            "at": "2024-01-02T03:04:05",
            "name": "Zoë",
            "tags": '["a","b"]',
            "point": '{"x":1,"y":"p"}',
        },
        {
            "id": None,
            "amount": "0.01",
            "ratio": "2.0",
            "ok": "false",
            "day": None,
            "at": "2024-01-02T03:04:05.120",
            "name": "",
            "tags": None,
            "point": None,
        },
    ]


def test_binary_column_is_text_when_utf8_else_hex() -> None:
    frame = pl.DataFrame({"text": [b"abc", None], "raw": [b"abc", b"\xff\x00"]})
    batch = read_parquet_bytes(_parquet(frame), INFO)
    assert isinstance(batch, RawBatch)
    assert batch.frame.rows() == [("abc", "616263", 0), (None, "ff00", 1)]


def test_truncated_parquet_is_a_file_reject() -> None:
    data = _parquet(pl.DataFrame({"a": list(range(1000))}))
    item = read_parquet_bytes(data[: len(data) // 2], INFO)
    assert isinstance(item, FileReject)
    assert "Parquet" in item.reason and item.size_bytes == len(data) // 2


def test_corrupt_middle_is_a_file_reject() -> None:
    data = bytearray(_parquet(pl.DataFrame({"a": [str(i) for i in range(1000)]})))
    data[8:-8] = b"\x00" * (len(data) - 16)
    item = read_parquet_bytes(bytes(data), INFO)
    assert isinstance(item, FileReject)
    assert item.reason.startswith(("corrupt Parquet file", "not a Parquet file"))


def test_csv_named_parquet_is_a_file_reject() -> None:
    item = read_parquet_bytes(b"a,b\n1,2\n", INFO)
    assert isinstance(item, FileReject) and "PAR1" in item.reason
