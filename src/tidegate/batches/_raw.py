"""What a source yields: raw batches of records, and files it could not read at all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import polars as pl

RECORD_COLUMN = "_tidegate_record"  # line number (text formats) or row offset (Parquet)


@dataclass(frozen=True)
class RecordReject:
    """One record that could not be split into fields (ragged row, bad JSON line)."""

    record: int  # line number (1-based) or offset
    raw: str  # the record's text exactly as read
    reason: str  # e.g. "ragged row: 4 fields, header has 5"


@dataclass(frozen=True)
class RawBatch:
    """Raw records of one file (or one chunk/window), all values as read.

    ``frame`` holds one Utf8 column per field, named exactly as the header in the
    file (no renaming: that is normalization's job), plus ``_tidegate_record``
    (Int64), the 1-based line number where the record starts, or the row offset.
    Nothing is trimmed or null-converted; an empty field is "" for text formats.
    Non-text formats (Parquet, JSON numbers) are cast to their string form.
    """

    source: str
    location: str  # file path, table, URL
    content_sha256: str  # sha256 of the bytes read; the batch key with the source
    frame: pl.DataFrame
    rejects: tuple[RecordReject, ...] = ()
    fmt: str = "csv"
    # incremental sources (SQL with a cursor): the cursor column and the highest cursor
    # value in this batch, the watermark stored with the batch's checkpoint on commit
    cursor_column: str | None = None
    cursor_value: str | None = None

    @property
    def rows_in(self) -> int:
        return self.frame.height + len(self.rejects)

    @classmethod
    def from_frame(cls, source: str, frame: Any, location: str = "memory") -> RawBatch:
        """One batch of a frame's rows (a polars DataFrame or LazyFrame, or anything
        ``polars.DataFrame()`` takes: a pandas frame, a dict of lists, a list of dicts).

        Values become their string form, as a text file would hold them (numbers,
        dates and booleans as polars writes them); nulls stay null. Records are
        numbered 1..n unless the frame has ``_tidegate_record``. ``content_sha256`` is
        the sha256 of the frame written as CSV, so the same rows make the same batch key.
        """
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        elif not isinstance(frame, pl.DataFrame):
            frame = pl.DataFrame(frame)
        text = []
        for column, dtype in frame.schema.items():
            if column == RECORD_COLUMN:
                continue
            if dtype.is_nested() or dtype == pl.Object:
                raise TypeError(
                    f"column {column!r} holds {dtype} values; a raw record holds text, "
                    "numbers, dates or booleans (flatten it or encode it as a string first)"
                )
            text.append(pl.col(column).cast(pl.String))
        numbers = (
            pl.col(RECORD_COLUMN).cast(pl.Int64)
            if RECORD_COLUMN in frame.columns
            else pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(RECORD_COLUMN)
        )
        raw = frame.select(*text, numbers)
        digest = hashlib.sha256(raw.drop(RECORD_COLUMN).write_csv().encode("utf-8")).hexdigest()
        return cls(source=source, location=location, content_sha256=digest, frame=raw, fmt="memory")


@dataclass(frozen=True)
class FileReject:
    """A file that could not be read at all: one file-level quarantine entry."""

    source: str
    location: str
    content_sha256: str | None  # None when even the bytes could not be read
    reason: str
    size_bytes: int | None = None
    head: str = field(default="")  # first bytes, repr-escaped, to help a reviewer
