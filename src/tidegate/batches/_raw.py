"""What a source yields: raw batches of records, and files it could not read at all."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class FileReject:
    """A file that could not be read at all: one file-level quarantine entry."""

    source: str
    location: str
    content_sha256: str | None  # None when even the bytes could not be read
    reason: str
    size_bytes: int | None = None
    head: str = field(default="")  # first bytes, repr-escaped, to help a reviewer
