"""Read one Parquet file into a RawBatch with every column cast to its string form.

Dates and times are ISO 8601, booleans "true"/"false", nested lists and structs compact
JSON, binary values text when they are UTF-8 and hex otherwise. ``_tidegate_record`` is
the 0-based row offset in the file.
"""

from __future__ import annotations

import io

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileReject, RawBatch
from tidegate.sources._text import FileInfo

_PARQUET_MAGIC = b"PAR1"


NOT_PARQUET = (
    "not a Parquet file: it does not start and end with the 'PAR1' marker "
    "(truncated, or another format; declare `format:` in the pipeline file if so)"
)


def has_parquet_markers(size: int, head: bytes, tail: bytes) -> bool:
    """Does a file of ``size`` bytes that starts with ``head`` and ends with ``tail``
    look like Parquet (the 'PAR1' marker at both ends)?"""
    return size >= 12 and head.startswith(_PARQUET_MAGIC) and tail.endswith(_PARQUET_MAGIC)


def corrupt_reason(exc: Exception) -> str:
    """The reason for a Parquet file polars cannot read."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"corrupt Parquet file: {type(exc).__name__}: {first_line}"


def read_parquet_bytes(data: bytes, info: FileInfo) -> RawBatch | FileReject:
    """Read a Parquet file; a truncated or corrupt file is a FileReject with the reason."""
    if not has_parquet_markers(len(data), data[:4], data[-4:]):
        return info.reject(data, NOT_PARQUET)
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises many kinds for corrupt files
        return info.reject(data, corrupt_reason(exc))
    return RawBatch(
        source=info.source,
        location=info.location,
        content_sha256=info.content_sha256 or "",
        frame=text_frame(frame),
        fmt="parquet",
    )


def text_frame(
    frame: pl.DataFrame, offset: int = 0, hex_columns: frozenset[str] | None = None
) -> pl.DataFrame:
    """Every column of ``frame`` as strings, plus ``_tidegate_record``: the row offset
    in the file (the frame's first row is at ``offset``). ``hex_columns``: the binary
    columns shown as hex; None decides from this frame (hex if a value is not UTF-8)."""
    columns = [
        _as_text(frame.get_column(name), None if hex_columns is None else name in hex_columns)
        for name in frame.columns
    ]
    names = [_column_name(name) for name in frame.columns]
    numbers = pl.int_range(offset, offset + frame.height, dtype=pl.Int64, eager=True)
    return pl.DataFrame(
        [column.alias(name) for column, name in zip(columns, names, strict=True)]
        + [numbers.alias(RECORD_COLUMN)]
    )


def _column_name(name: str) -> str:
    return f"{RECORD_COLUMN}_2" if name == RECORD_COLUMN else name


def is_utf8(series: pl.Series) -> bool:
    """Does every value of a binary column decode as UTF-8?"""
    try:
        series.cast(pl.String)
    except pl.exceptions.PolarsError:
        return False
    return True


def _as_text(series: pl.Series, hex_binary: bool | None = None) -> pl.Series:
    """One column as strings, nulls kept as nulls."""
    dtype = series.dtype
    try:
        if dtype == pl.String:
            return series
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            return series.dt.to_string(fmt)
        if isinstance(dtype, pl.Duration):
            return series.dt.to_string("iso")
        if dtype == pl.Binary:
            if hex_binary is None:
                hex_binary = not is_utf8(series)
            return series.bin.encode("hex") if hex_binary else series.cast(pl.String)
        if isinstance(dtype, pl.Struct):
            return _json_text(series, series.struct.json_encode())
        if isinstance(dtype, (pl.List, pl.Array)):
            wrapped = pl.DataFrame({"v": series}).select(pl.struct("v").struct.json_encode())
            inner = wrapped.to_series().str.slice(5).str.strip_suffix("}")
            return _json_text(series, inner)
        return series.cast(pl.String)
    except pl.exceptions.PolarsError:
        values = series.to_list()
        return pl.Series(series.name, [None if v is None else str(v) for v in values], pl.String)


def _json_text(original: pl.Series, encoded: pl.Series) -> pl.Series:
    """Encoded JSON text where the original value is not null, null where it is."""
    return (
        pl.DataFrame({"o": original, "e": encoded})
        .select(pl.when(pl.col("o").is_not_null()).then(pl.col("e")).alias(original.name))
        .to_series()
    )
