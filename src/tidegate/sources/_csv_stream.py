"""CSV read block by block: the same records as :func:`parse_csv_text` on the whole text.

:class:`CsvStream` takes the text of a file in blocks of whole lines (see
:func:`tidegate.sources._text_pass.line_blocks`) and yields :class:`Piece` objects.
Each block is parsed by one of the two parsers of ``_csv.py``:

* the **fast path** (polars) when every line of the block is safe (no record spans
  lines, no stray quote): the block's lines are its records;
* the **exact path** (Python's ``csv`` module) otherwise, fed from a line iterator that
  pulls the next blocks when a quoted field runs past the end of a block, so a record
  is always read whole. The exact path hands back to the fast path at the next block
  that starts on a record boundary.

The header (the first non-blank record) and its field count hold for every later block,
so ragged rows get the reasons they get on the whole text, and record numbers are line
numbers in the whole file. The exact path hands each record to the same
:class:`tidegate.sources._csv_records.RecordBook` as the whole-text parser; both paths
count every physical line (:meth:`CsvStream.line_counts`). A csv.Error is a reject for
its own record's lines only: the reader goes on after it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import polars as pl

from tidegate.batches import RECORD_COLUMN, LineCounts, RecordReject
from tidegate.sources._chunking import Piece, concat_frames
from tidegate.sources._csv import (
    _FIELD_SIZE_LIMIT,
    CsvOptions,
    _line_table,
    _ragged_reason,
    read_fields,
)
from tidegate.sources._csv_records import RecordBook
from tidegate.sources._text import unique_names


class _Lines:
    """Physical lines for the csv reader: a block's, then the next blocks' on demand."""

    def __init__(self, block: str, blocks: Iterator[str]) -> None:
        self._lines = io.StringIO(block, newline="").readlines()
        self._at = 0
        self._blocks = blocks
        self.consumed = 0  # lines handed out
        self.record: list[str] = []  # the lines of the record being read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while self._at == len(self._lines):
            block = next(self._blocks)  # StopIteration: the end of the file
            self._lines, self._at = io.StringIO(block, newline="").readlines(), 0
        line = self._lines[self._at]
        self._at += 1
        self.consumed += 1
        self.record.append(line)
        return line

    @property
    def at_block_end(self) -> bool:
        return self._at == len(self._lines)


class CsvStream:
    """The records of one CSV text given block by block (see the module docstring).

    A piece is yielded at the first record end after ``target`` characters, and at the
    end of a block once the piece holds ``min_chars`` characters (0: at every block
    end); the last piece (maybe empty, with the file's columns) comes at the end.
    """

    def __init__(self, options: CsvOptions, *, target: int, min_chars: int) -> None:
        self.options = options
        self.names: list[str] | None = None
        self.expected = 0
        self.line = 0  # physical lines before the next block
        self._target = target
        self._min_chars = min_chars
        self._fast_ok = len(options.delimiter.encode()) == 1 and len(options.quote.encode()) == 1
        filler = next(c for c in "xyz" if c not in (options.delimiter, options.quote))
        self._filler = filler
        # what each exact-path record is; every physical line counted once (self.line:
        # the physical lines so far)
        self.book = RecordBook(options)
        self.skipped_lines = self.book.skipped_lines
        # the piece being built: fast-path frames, then exact-path rows
        self._frames: list[pl.DataFrame] = []
        self._columns: list[list[str]] = []
        self._numbers: list[int] = []
        self._rejects: list[RecordReject] = []
        self._chars = 0

    def pieces(self, blocks: Iterator[str]) -> Iterator[Piece]:
        blocks = iter(blocks)
        for block in blocks:
            if not self._fast_block(block):
                yield from self._exact(block, blocks)
            if self._chars >= self._min_chars:
                piece = self._take()
                if piece.records:
                    yield piece
        yield self._take()

    def line_counts(self) -> LineCounts:
        """How the physical lines read so far were used (all of them, after ``pieces``)."""
        book = self.book
        return LineCounts(self.line, book.records, book.record_lines, dict(self.skipped_lines))

    # --- the fast path ------------------------------------------------------------------

    def _fast_block(self, block: str) -> bool:
        """Parse ``block`` with polars if every line is safe; False if it is not."""
        if not self._fast_ok or block.endswith("\r"):
            return False  # it ends with a lone "\r" line end: the csv module reads that exactly
        options = self.options
        utf8 = block.encode("utf-8")
        table = _line_table(utf8, options)
        if table is None:
            return False
        first_data = 0
        if self.names is None:
            non_blank = (~table.get_column("blank")).arg_true()
            if non_blank.len() == 0:
                self.book.skip("blank", table.height)
                self.line += table.height
                self._chars += len(block)
                return True
            header_at = int(non_blank[0])
            expected = int(table.get_column("fields")[header_at])
            frame = _read(utf8, options, skip_lines=header_at)
            lines = table.slice(header_at).with_row_index("offset", offset=header_at)
            if frame.height != lines.height or frame.width != expected:
                return False  # polars saw the text differently: the exact parser decides
            if options.has_header:
                self.names = unique_names("" if v is None else str(v) for v in frame.row(0))
                first_data = 1
            else:
                self.names = unique_names([""] * expected)
            self.expected = expected
            self._columns = [[] for _ in range(expected)]
        else:
            # a first line of the header's width, so that polars reads every line so
            # (its width comes from the first line); dropped after the read
            width = (options.delimiter.join(self._filler * self.expected) + "\n").encode()
            frame = _read(width + utf8, options, skip_lines=0).slice(1)
            lines = table.with_row_index("offset")
            if frame.height != lines.height or frame.width != self.expected:
                return False
        frame, lines = frame.slice(first_data), lines.slice(first_data)
        blank, fields = lines.get_column("blank"), lines.get_column("fields")
        blank_lines = int(blank.sum())
        self.book.skip("header", first_data)
        before = table.height - lines.height - first_data  # blank lines before the header
        self.book.skip("blank", before + blank_lines)
        self.book.count(lines.height - blank_lines, lines.height - blank_lines)
        ragged = ~blank & (fields != self.expected)
        for row in lines.filter(ragged).iter_rows(named=True) if ragged.any() else ():
            reason = _ragged_reason(int(row["fields"]), self.expected, options.has_header)
            self._rejects.append(
                RecordReject(self.line + int(row["offset"]) + 1, row["line"], reason)
            )
        numbers = (lines.get_column("offset").cast(pl.Int64) + (self.line + 1)).alias(RECORD_COLUMN)
        keep = ~blank & ~ragged
        if not keep.all():
            frame, numbers = frame.filter(keep), numbers.filter(keep)
        assert self.names is not None
        out = frame.select(
            pl.col(old).alias(new) for old, new in zip(frame.columns, self.names, strict=True)
        ).with_columns(numbers)
        self._flush_exact()
        self._frames.append(out)
        self.line += table.height
        self._chars += len(block)
        return True

    # --- the exact path -----------------------------------------------------------------

    def _exact(self, block: str, blocks: Iterator[str]) -> Iterator[Piece]:
        """Read records with the csv module from ``block`` on, until a record ends at the
        end of a block (or the file ends); pieces as they fill up."""
        if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
            csv.field_size_limit(_FIELD_SIZE_LIMIT)
        options = self.options
        lines = _Lines(block, blocks)
        reader = csv.reader(
            lines, delimiter=options.delimiter, quotechar=options.quote, strict=False
        )
        base, end = self.line, 0
        while True:
            lines.record = []
            error: str | None = None
            try:
                row: list[str] | None = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # this record's lines only: the reader goes on after it
                row, error = None, str(exc)
            start, end = base + end + 1, lines.consumed
            self._chars += sum(map(len, lines.record))
            if row == []:
                self.book.skip("blank")
            else:
                self._exact_row(row, start, lines.record, error)
            if lines.at_block_end:
                break  # a record boundary at a block end: the fast path may go on
            if self._chars >= self._target:
                piece = self._take()
                if piece.records:
                    yield piece
        self.line = base + lines.consumed
        self._flush_exact()

    def _exact_row(
        self, row: list[str] | None, start: int, physical: list[str], error: str | None = None
    ) -> None:
        """One record the csv module read (None: the csv.Error ``error``), non-blank."""
        if self.names is None:
            self.expected, header, outcomes = self.book.first(row, physical, start, error)
            self.names = unique_names(header if header is not None else [""] * self.expected)
            self._columns = [[] for _ in range(self.expected)]
        else:
            outcomes = self.book.data(row, physical, start, self.expected, error)
        self.book.keep(outcomes, self._columns, self._numbers, self._rejects)

    # --- the piece being built ------------------------------------------------------------

    def _flush_exact(self) -> None:
        """The exact path's rows so far as a frame after the earlier ones."""
        if not self._numbers or self.names is None:
            return
        data: dict[str, list[str] | list[int]] = dict(zip(self.names, self._columns, strict=True))
        schema: dict[str, pl.DataType] = {name: pl.String() for name in self.names}
        data[RECORD_COLUMN] = self._numbers
        schema[RECORD_COLUMN] = pl.Int64()
        self._frames.append(pl.DataFrame(data, schema=schema))
        self._columns = [[] for _ in range(self.expected)]
        self._numbers = []

    def _take(self) -> Piece:
        """The piece built so far (maybe empty); a new one starts."""
        self._flush_exact()
        if self._frames:
            frame = concat_frames(self._frames)
        else:
            names = self.names or []
            schema: dict[str, pl.DataType] = {name: pl.String() for name in names}
            frame = pl.DataFrame(schema={**schema, RECORD_COLUMN: pl.Int64()})
        piece = Piece(frame, self._rejects)
        self._frames, self._rejects, self._chars = [], [], 0
        return piece


def _read(utf8: bytes, options: CsvOptions, *, skip_lines: int) -> pl.DataFrame:
    return read_fields(utf8, options, skip_lines=skip_lines)
