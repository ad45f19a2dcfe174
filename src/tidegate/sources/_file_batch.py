"""LocalFileBatch: one local file as a :class:`tidegate.batches.FileBatch`, read in chunks.

``chunks()`` reads the file once, sequentially, in blocks: every byte is hashed as it is
read (so the sha256 is known after one complete pass) and the blocks are parsed as they
come, so memory holds about one chunk, never the whole file. The chunks concatenated
are exactly what the whole-file readers make of the file (same columns, values, record
numbers and record rejects), whatever the chunk size. See ``_csv_stream.py``,
``_jsonl_stream.py`` and ``_parquet_stream.py`` for each format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tidegate.batches import (
    DEFAULT_CHUNK_SIZE,
    ChunkSize,
    FileChangedError,
    FileReject,
    FileUnreadableError,
    LineCounts,
    RawBatch,
)
from tidegate.sources._chunking import Piece, concat_frames, nonempty_chunks, rows_chunks
from tidegate.sources._csv import csv_options
from tidegate.sources._csv_stream import CsvStream
from tidegate.sources._file_pass import READ_SIZE, FilePass
from tidegate.sources._jsonl_stream import JsonLinesStream, json_document
from tidegate.sources._parquet_stream import bytes_chunks, parquet_units
from tidegate.sources._text_pass import TextPass, chars_per_byte, line_blocks

# input parsed at once, at most: a chunk of 32 MiB is parsed as 8 blocks, whose frames
# make the chunk's frame (parsing one block takes a few times its size in memory)
BLOCK_BYTES = 4 * 1024**2
_FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")


class LocalFileBatch:
    """One file (``format`` csv, tsv, jsonl, json or parquet) read as chunks of
    ``chunk_size`` (a :class:`ChunkSize`, or what ``ChunkSize.parse`` takes; None: the
    default, 32 MiB); the reader options mean what they mean for ``FileSource``.

    ``dialect`` takes the other CSV options (``skip_rows``, ``header_rows``, ``escape``,
    ``columns``, ``comment``, ``expected_columns``; see :class:`CsvOptions`).

    ``block_bytes`` is how much input is parsed at once: 4 MiB, or the chunk size if it
    is smaller (smaller values are for tests). ``fmt`` is the chunks' format label
    (``csv`` for csv and tsv).
    """

    def __init__(
        self,
        source: str,
        path: str | Path,
        format: str,
        *,
        delimiter: str | None = None,
        quote: str | None = '"',
        encoding: str = "utf-8",
        has_header: bool = True,
        chunk_size: ChunkSize | int | str | None = None,
        block_bytes: int | None = None,
        **dialect: Any,
    ) -> None:
        if format not in _FORMATS:
            raise ValueError(f"format {format!r} is not one of {', '.join(_FORMATS)}")
        self.source = source
        self.path = Path(path)
        self.location = str(path)
        self.format = format
        self.fmt = "csv" if format in ("csv", "tsv") else format
        self.encoding = encoding
        self.chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else ChunkSize.parse(chunk_size)
        self.options = csv_options(
            format,
            delimiter=delimiter,
            quote=quote,
            encoding=encoding,
            has_header=has_header,
            **dialect,
        )
        self.block_bytes = block_bytes or min(self.chunk_size.bytes or BLOCK_BYTES, BLOCK_BYTES)
        self._sha256: str | None = None
        self._csv: CsvStream | None = None  # the CSV reader of the current pass
        self.line_counts: LineCounts | None = None

    def __repr__(self) -> str:
        return (
            f"LocalFileBatch(source={self.source!r}, location={self.location!r}, "
            f"fmt={self.fmt!r}, chunk_size='{self.chunk_size}')"
        )

    @property
    def content_sha256(self) -> str | None:
        """The sha256 of the file's bytes, once a pass (or ``hash()``) has read them all."""
        return self._sha256

    def chunks(self) -> Iterator[RawBatch]:
        """Read the file from the start, one RawBatch per chunk (``content_sha256`` is ""
        on each: the batch's is :attr:`content_sha256`, known after the last chunk).

        Raises FileUnreadableError (the file cannot be read after all: nothing of it is to
        be published) and FileChangedError (its size or modification time changed during
        the pass, or this pass did not read the bytes an earlier pass read).

        After a complete pass of a CSV file, :attr:`line_counts` says how each of its
        physical lines was used (None before, and for other formats)."""
        self.line_counts = None
        try:
            with FilePass(self.source, self.path, min(self.block_bytes, READ_SIZE)) as file:
                for piece in self._pieces(file):
                    yield RawBatch(
                        source=self.source,
                        location=self.location,
                        content_sha256="",
                        frame=piece.frame,
                        rejects=tuple(piece.rejects),
                        fmt=self.fmt,
                    )
                digest = file.finish()
        except FileUnreadableError as exc:
            if exc.reject.content_sha256 is not None:
                self._settle(exc.reject.content_sha256)
            raise
        self._settle(digest)
        if self._csv is not None:
            self.line_counts = self._csv.line_counts()

    def hash(self) -> str:
        """The sha256 of the file's bytes, read without parsing (FileUnreadableError if the
        file cannot be read, FileChangedError as for ``chunks()``)."""
        with FilePass(self.source, self.path) as file:
            digest = file.finish()
        self._settle(digest)
        return digest

    def collect(self) -> RawBatch | FileReject:
        """The whole file in one RawBatch (every chunk), or the FileReject if it cannot
        be read; FileChangedError propagates."""
        try:
            chunks = list(self.chunks())
        except FileUnreadableError as exc:
            return exc.reject
        assert self._sha256 is not None
        return RawBatch(
            source=self.source,
            location=self.location,
            content_sha256=self._sha256,
            frame=concat_frames([chunk.frame for chunk in chunks]),
            rejects=tuple(reject for chunk in chunks for reject in chunk.rejects),
            fmt=self.fmt,
        )

    def _settle(self, digest: str) -> None:
        if self._sha256 is not None and digest != self._sha256:
            raise FileChangedError(self.location, "its content differs from the first read")
        self._sha256 = digest

    def _pieces(self, file: FilePass) -> Iterator[Piece]:
        size = self.chunk_size
        if self.format == "parquet":
            units = parquet_units(file, size.bytes or self.block_bytes)
            if size.rows is not None:
                return rows_chunks((piece for piece, _ in units), size.rows)
            return bytes_chunks(units, size.bytes or self.block_bytes)
        what = "JSON" if self.format in ("json", "jsonl") else "CSV"
        text = TextPass(file, self.encoding, what)
        if self.format == "json":
            return iter([json_document("".join(text.pieces()), text.fail, document=True)])
        # sizes in characters of text (bytes for ASCII text in a one-byte encoding)
        per_byte = chars_per_byte(self.encoding)
        block = max(1, round(self.block_bytes * per_byte))
        # a piece ends at the first record end after `target`, or at the end of a block
        # once it holds `min_chars`: in rows, pieces of about a block, cut to size later
        target = block if size.bytes is None else max(1, round(size.bytes * per_byte))
        min_chars = 0 if size.bytes is None else target
        if self.format == "jsonl":
            blocks = line_blocks(text.pieces(), block, universal=False)
            stream = JsonLinesStream(rows=size.rows, min_chars=min_chars)
            return nonempty_chunks(stream.pieces(blocks, text.fail))
        blocks = line_blocks(text.pieces(), block, universal=True)
        self._csv = CsvStream(self.options, target=target, min_chars=min_chars)
        pieces = self._csv.pieces(blocks)
        if size.rows is not None:
            return rows_chunks(pieces, size.rows)
        return nonempty_chunks(pieces)
