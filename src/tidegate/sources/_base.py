"""The one-method source interface, and an in-memory source for tests.

Like httpx's ``BaseTransport`` and ``MockTransport``: everything downstream depends on
``Source.read()`` only, and tests feed batches from memory instead of files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileBatch, FileReject, RawBatch

# what a source yields: a batch in memory (a SQL window, an HTTP page, a test's rows),
# a file read as a stream of chunks (FileBatch), or a file that could not be read at all
SourceItem = RawBatch | FileBatch | FileReject


@runtime_checkable
class Source(Protocol):
    """Something that yields batches: one per file, chunk or cursor window."""

    name: str

    def read(self) -> Iterator[SourceItem]:
        """Yield each batch (a RawBatch, or a FileBatch for a file read in chunks), or a
        FileReject for a file that could not be read at all."""
        ...


class MemorySource:
    """A source that yields the batches and file rejects it was given, in order."""

    def __init__(self, name: str, items: Sequence[RawBatch | FileReject]) -> None:
        self.name = name
        self.items: tuple[RawBatch | FileReject, ...] = tuple(items)

    def __repr__(self) -> str:
        return f"MemorySource(name={self.name!r}, items={len(self.items)})"

    def read(self) -> Iterator[RawBatch | FileReject]:
        yield from self.items

    @classmethod
    def from_records(
        cls,
        name: str,
        records: list[dict[str, str | None]],
        location: str = "memory",
    ) -> MemorySource:
        """One batch of the given records: all-Utf8 columns, records numbered 1..n.

        Columns are the union of keys in first-seen order; a missing key is null.
        ``content_sha256`` is the sha256 of the records' canonical JSON, so the same
        records always make the same batch key.
        """
        columns = list(dict.fromkeys(key for record in records for key in record))
        for record in records:
            for key, value in record.items():
                if value is not None and not isinstance(value, str):
                    raise TypeError(
                        f"record value for {key!r} is {type(value).__name__} {value!r}; "
                        "raw records hold strings or None only (pass str(value))"
                    )
        data: dict[str, list[str | None] | list[int]] = {
            column: [record.get(column) for record in records] for column in columns
        }
        data[RECORD_COLUMN] = list(range(1, len(records) + 1))
        schema: dict[str, pl.DataType] = {column: pl.String() for column in columns}
        schema[RECORD_COLUMN] = pl.Int64()
        canonical = json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        batch = RawBatch(
            source=name,
            location=location,
            content_sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            frame=pl.DataFrame(data, schema=schema),
            fmt="memory",
        )
        return cls(name, [batch])

    @classmethod
    def from_frame(cls, name: str, frame: Any, location: str = "memory") -> MemorySource:
        """One batch of a frame's rows, as :meth:`RawBatch.from_frame` makes it."""
        return cls(name, [RawBatch.from_frame(name, frame, location)])
