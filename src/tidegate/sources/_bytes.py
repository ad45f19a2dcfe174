"""Bytes searched at C speed: a bytes object seen as a polars UInt8 Series, no copy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    import pyarrow as pa


class _ArrowArray:
    """A pyarrow array handed to polars through the Arrow C interface only (``pl.Series``
    on the array itself imports ``pyarrow.compute``, a third of a second)."""

    def __init__(self, array: pa.Array) -> None:
        self._array = array

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self._array.__arrow_c_array__(requested_schema)


def byte_view(data: bytes) -> pl.Series:
    """``data`` as a polars UInt8 Series, without a copy (it keeps ``data`` alive)."""
    import pyarrow as pa  # when a file is read, not at import

    array = pa.Array.from_buffers(pa.uint8(), len(data), [None, pa.py_buffer(data)])
    return pl.Series(_ArrowArray(array))


def count_byte(data: bytes, byte: int) -> int:
    """How many times ``byte`` occurs in ``data`` (a few times faster than ``bytes.count``)."""
    return int((byte_view(data) == byte).sum())
