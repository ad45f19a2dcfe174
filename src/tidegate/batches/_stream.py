"""A batch too large for memory: one file read as a stream of raw chunks.

A :class:`FileBatch` is one batch (one file, one batch key, one atomic commit) whose
records arrive as a sequence of :class:`RawBatch` chunks of about :class:`ChunkSize`
each. Its content sha256 is computed while the chunks are read, so it is known once
they all have been. The engine stages each chunk in the store and publishes the batch
in one transaction; a file that turns out unreadable part-way (bad bytes in chunk 900)
raises :class:`FileUnreadableError`, and a file that changed while it was read raises
:class:`FileChangedError`, so that nothing of it is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkSize",
    "FileBatch",
    "FileChangedError",
    "FileUnreadableError",
]

from tidegate.batches._raw import FileReject, RawBatch
from tidegate.errors import ConfigError, FileChangedError, FileUnreadableError

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+)\s*(rows?|b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ChunkSize:
    """How much of a file one chunk holds: at most ``rows`` records, or about ``bytes``
    of input (a chunk ends at the first record boundary after that many bytes)."""

    rows: int | None = None
    bytes: int | None = None

    def __post_init__(self) -> None:
        if (self.rows is None) == (self.bytes is None):
            raise ConfigError("a chunk size is a number of rows or of bytes, not both")
        value = self.rows if self.rows is not None else self.bytes
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"chunk size {value!r} is not valid: it must be at least 1")

    def __str__(self) -> str:
        return f"{self.rows} rows" if self.rows is not None else f"{self.bytes} bytes"

    def as_setting(self) -> int | str:
        """The size as a pipeline file writes it: rows as a number, bytes as ``"NB"``."""
        return self.rows if self.rows is not None else f"{self.bytes}B"

    @classmethod
    def parse(cls, value: object) -> ChunkSize:
        """``100000`` or ``"100000 rows"`` (rows); ``"64MB"``, ``"32MiB"``, ``"4096 B"``
        (bytes). A ChunkSize is returned as it is."""
        if isinstance(value, ChunkSize):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return cls(rows=value)
        match = _SIZE.match(value) if isinstance(value, str) else None
        if match is None or int(match.group(1)) < 1:
            raise ConfigError(
                f"chunk_size {value!r} is not valid: give a number of rows (e.g. 100000 or "
                "'100000 rows') or a size in bytes (e.g. '64MB', '32MiB'); the default is "
                f"{DEFAULT_CHUNK_SIZE}"
            )
        number, unit = int(match.group(1)), (match.group(2) or "rows").lower()
        if unit.startswith("row"):
            return cls(rows=number)
        return cls(bytes=number * _UNITS[unit])


DEFAULT_CHUNK_SIZE = ChunkSize(bytes=32 * 1024**2)


@runtime_checkable
class FileBatch(Protocol):
    """One file as a stream of raw chunks (see the module docstring).

    A batch may also have ``line_counts`` (a :class:`tidegate.batches.LineCounts`, set
    after a complete :meth:`chunks` pass of a CSV file): the engine audits the figures
    and holds the batch when they do not add up. Batches without it are not checked."""

    source: str
    location: str
    fmt: str

    @property
    def content_sha256(self) -> str | None:
        """The sha256 of the file's bytes: known after a complete :meth:`chunks` pass
        or :meth:`hash`, else None."""
        ...

    def chunks(self) -> Iterator[RawBatch]:
        """Read the file from the start: each chunk a RawBatch of the same columns
        (named as in the file), records numbered as in the whole file. May be called
        again (the engine reads a file a second time only when a whole-batch rule moves
        rows it had staged to load); raises FileUnreadableError or FileChangedError."""
        ...

    def hash(self) -> str:
        """The sha256 of the file's bytes, read without parsing (to skip committed
        content without reading it twice)."""
        ...

    def collect(self) -> RawBatch | FileReject:
        """Every chunk in one RawBatch (for small files and tests), or the FileReject."""
        ...
