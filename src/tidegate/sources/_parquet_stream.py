"""Parquet read by row group: the same records as the whole-file reader, a few at a time.

Parquet needs random access (its footer, at the end, says where the row groups are), so
its sha256 is computed by one sequential read of the file *before* the row groups are
read; the row groups are then read with polars, a run of consecutive groups at a time,
and cast to text as :func:`tidegate.sources._parquet.text_frame` casts a whole file.
``_tidegate_record`` is the 0-based row offset in the file, across chunks. A binary
column is shown as hex in every chunk when any of its values in the file is not UTF-8
(its values are checked in a first pass over that column alone, as the whole-file
reader decides for the whole column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from tidegate.sources._chunking import Piece, concat_pieces
from tidegate.sources._file_pass import FilePass
from tidegate.sources._parquet import (
    NOT_PARQUET,
    corrupt_reason,
    has_parquet_markers,
    is_utf8,
    text_frame,
)

Unit = tuple[int, int, int]  # (first row, rows, bytes in the file): consecutive row groups


def parquet_units(file: FilePass, unit_bytes: int) -> Iterator[tuple[Piece, int]]:
    """Each run of row groups of about ``unit_bytes`` (in the file) as a text piece,
    with its size in the file; the file has been hashed first. Raises FileUnreadableError."""
    file.drain()
    if not has_parquet_markers(file.size, file.head, file.tail):
        file.unreadable(NOT_PARQUET)
    path = file.path
    try:
        pl.read_parquet_schema(path)  # the footer, as polars reads it
    except Exception as exc:  # polars raises many kinds for corrupt files
        file.unreadable(corrupt_reason(exc))
    units = _units(path, unit_bytes)
    if units is None or len(units) <= 1:  # one read: the whole file, as before
        frame = _read(file, path, None)
        yield Piece(text_frame(frame)), file.size
        return
    hex_columns = _hex_columns(file, path, units)
    for offset, rows, size in units:
        frame = _read(file, path, (offset, rows))
        yield Piece(text_frame(frame, offset, hex_columns)), size


def bytes_chunks(units: Iterable[tuple[Piece, int]], target: int) -> Iterator[Piece]:
    """Chunks that end at the first row after about ``target`` bytes of the file (a row
    weighs its run's bytes / rows); at least one chunk."""
    pending: list[Piece] = []
    weight = 0.0
    last: Piece | None = None
    emitted = False
    for piece, size in units:
        last = piece
        frame = piece.frame
        per_row = size / max(frame.height, 1)
        start = 0
        while start < frame.height:
            need = max(1, math.ceil((target - weight) / per_row)) if per_row else frame.height
            take = min(need, frame.height - start)
            pending.append(Piece(frame.slice(start, take)))
            weight += take * per_row
            start += take
            if weight >= target:
                yield concat_pieces(pending)
                pending, weight, emitted = [], 0.0, True
    if pending:
        yield concat_pieces(pending)
    elif not emitted and last is not None:
        yield last


def _units(path: Path, unit_bytes: int) -> list[Unit] | None:
    """Runs of consecutive row groups, each of ``unit_bytes`` or more (but the last);
    None when pyarrow cannot read the footer that polars could."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception:
        return None
    units: list[Unit] = []
    start = rows = size = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        rows += group.num_rows
        size += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        if size >= unit_bytes:
            units.append((start, rows, size))
            start, rows, size = start + rows, 0, 0
    if rows:
        units.append((start, rows, size))
    return units


def _read(file: FilePass, path: Path, rows: tuple[int, int] | None) -> pl.DataFrame:
    """The rows ``(offset, count)`` of the file (None: all), or FileUnreadableError."""
    try:
        scan = pl.scan_parquet(path)
        return (scan if rows is None else scan.slice(*rows)).collect()
    except Exception as exc:
        file.unreadable(corrupt_reason(exc))


def _hex_columns(file: FilePass, path: Path, units: list[Unit]) -> frozenset[str]:
    """The binary columns with a value that is not UTF-8 anywhere in the file."""
    binary = [name for name, dtype in pl.read_parquet_schema(path).items() if dtype == pl.Binary]
    hex_columns: set[str] = set()
    for offset, rows, _ in units:
        left = [name for name in binary if name not in hex_columns]
        if not left:
            break
        try:
            frame = pl.scan_parquet(path).select(left).slice(offset, rows).collect()
        except Exception as exc:
            file.unreadable(corrupt_reason(exc))
        hex_columns.update(name for name in left if not is_utf8(frame.get_column(name)))
    return frozenset(hex_columns)
