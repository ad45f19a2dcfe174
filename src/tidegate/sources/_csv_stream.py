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

Preamble and comment lines are skipped and the header is read as on the whole text
(``_csv_dialect.py``, ``_csv_header.py``); records are held while a possibly malformed
header is decided. The header and its field count hold for every later block,
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
from tidegate.sources._csv import _FIELD_SIZE_LIMIT, CsvOptions, _line_table, read_fields
from tidegate.sources._csv_dialect import LineSkipper, csv_reader, fast_path_applies
from tidegate.sources._csv_header import CsvHeader
from tidegate.sources._csv_plain import plain_lines
from tidegate.sources._csv_records import Outcome, RecordBook


class _Lines:
    """Physical lines for the csv reader: a block's, then the next blocks' on demand."""

    def __init__(
        self, block: str, blocks: Iterator[str], skipper: LineSkipper, base: int = 0
    ) -> None:
        self._lines = io.StringIO(block, newline="").readlines()
        self._at = 0
        self._blocks = blocks
        self._skipper = skipper  # preamble and comment lines are left out at record starts
        self._base = base  # physical lines before the block
        self.consumed = 0  # lines handed out (or skipped)
        self.first = 0  # the line (from the block's start) where the current record starts
        self.record: list[str] = []  # the lines of the record being read

    def begin(self) -> None:
        """A new record starts (called by the reader before each record)."""
        self.record = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while True:
            while self._at == len(self._lines):
                block = next(self._blocks)  # StopIteration: the end of the file
                self._lines, self._at = io.StringIO(block, newline="").readlines(), 0
            line = self._lines[self._at]
            self._at += 1
            self.consumed += 1
            if not self.record:
                if self._skipper.skips(line, self._base + self.consumed):
                    continue  # a preamble or comment line: no record
                self.first = self.consumed
                self.record.append(line)
                return self._skipper.start(line)
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
        self.header = CsvHeader(options)  # names and field count, once read
        self.skipper = LineSkipper(options, self.header)  # preamble and comment lines
        # what each exact-path record is; every physical line counted once
        self.book = RecordBook(options, self.header, self.skipper)
        self.line = 0  # physical lines before the next block
        self._target = target
        self._min_chars = min_chars
        self._fast_ok = fast_path_applies(options)
        filler = next(c for c in "xyz" if c not in (options.delimiter, options.quote))
        self._filler = filler
        # the piece being built: fast-path frames, then exact-path rows
        self._frames: list[pl.DataFrame] = []
        self._columns: list[list[str]] = []
        self._numbers: list[int] = []
        self._rejects: list[RecordReject] = []
        self._chars = 0

    @property
    def names(self) -> list[str] | None:
        return self.header.names

    @property
    def expected(self) -> int:
        return self.header.expected

    @property
    def skipped_lines(self) -> dict[str, int]:
        """Physical lines read so far that are no records, by kind ("preamble", "comment",
        "header", "blank"; kinds with none left out)."""
        return self.book.skipped_lines

    def line_counts(self) -> LineCounts:
        """How the physical lines read so far were used (all of them, after ``pieces``)."""
        book = self.book
        return LineCounts(self.line, book.records, book.record_lines, book.skipped_lines)

    def pieces(self, blocks: Iterator[str]) -> Iterator[Piece]:
        blocks = iter(blocks)
        for block in blocks:
            if not self._fast_block(block):
                yield from self._exact(block, blocks)
            if self._chars >= self._min_chars:
                piece = self._take()
                if piece.records:
                    yield piece
        self._keep(self.book.finish())  # a header not yet settled: settled on what was read
        yield self._take()

    # --- the fast path ------------------------------------------------------------------

    def _fast_block(self, block: str) -> bool:
        """Parse ``block`` with polars if every line is safe; False if it is not."""
        if not self._fast_ok or block.endswith("\r"):
            return False  # it ends with a lone "\r" line end: the csv module reads that exactly
        if self.header.deciding:
            return False  # records are held until the header is decided: the exact path
        options = self.options
        utf8 = block.encode("utf-8")
        if self.names is not None and self._plain_block(block, utf8):
            return True
        table = _line_table(utf8, options)
        if table is None:
            return False
        table = self._mark_skipped(table)
        first_data = 0
        if self.names is None:
            if not self._fast_header_ok():
                return False
            non_blank = (~table.get_column("blank") & ~table.get_column("skip")).arg_true()
            if non_blank.len() == 0:
                self._count_skipped(table, table.height)
                self.line += table.height
                self._chars += len(block)
                return True
            header_at = int(non_blank[0])
            expected = int(table.get_column("fields")[header_at])
            declared = options.expected_columns
            if options.has_header and declared is not None and expected != len(declared):
                return False  # maybe a malformed header: the exact path decides
            frame = _read(utf8, options, skip_lines=header_at)
            lines = table.slice(header_at).with_row_index("offset", offset=header_at)
            if frame.height != lines.height or frame.width != expected:
                return False  # polars saw the text differently: the exact parser decides
            first = ["" if v is None else str(v) for v in frame.row(0)]
            line = str(table.get_column("line")[header_at])
            if self.header.take(first, self.line + header_at + 1, line, 1):
                first_data = 1
            self._columns = [[] for _ in range(self.expected)]
        else:
            frame = _read(self._width_line() + utf8, options, skip_lines=0).slice(1)
            lines = table.with_row_index("offset")
            if frame.height != lines.height or frame.width != self.expected:
                return False
        frame, lines = frame.slice(first_data), lines.slice(first_data)
        blank, fields = lines.get_column("blank"), lines.get_column("fields")
        blank = blank | lines.get_column("skip")  # preamble and comment lines: no records
        self._count_skipped(table, table.height - lines.height + int(blank.sum()))
        ragged = ~blank & (fields != self.expected)
        for row in lines.filter(ragged).iter_rows(named=True) if ragged.any() else ():
            reason = self.header.ragged_reason(int(row["fields"]))
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

    def _plain_block(self, block: str, utf8: bytes) -> bool:
        """Parse ``utf8`` with polars if each line is one record of the header's width
        (:func:`~tidegate.sources._csv_plain.plain_lines`): no line table; False if
        that is not known (the line table decides)."""
        if self.line < self.options.skip_rows:
            return False  # preamble lines
        lines = plain_lines(block, utf8, self.options, self.expected)
        if lines is None:
            return False
        try:
            frame = _read(self._width_line() + utf8, self.options, skip_lines=0, ragged=False)
        except pl.exceptions.PolarsError:
            return False  # a line of more fields (or polars refused the text otherwise)
        if frame.height != lines + 1 or frame.width != self.expected:
            return False
        assert self.names is not None
        first = self.line + 1
        numbers = pl.int_range(first, first + lines, dtype=pl.Int64, eager=True)
        out = (
            frame.slice(1)
            .select(
                pl.col(old).alias(new) for old, new in zip(frame.columns, self.names, strict=True)
            )
            .with_columns(numbers.alias(RECORD_COLUMN))
        )
        self.book.count(lines, lines)
        self._flush_exact()
        self._frames.append(out)
        self.line += lines
        self._chars += len(block)
        return True

    def _width_line(self) -> bytes:
        """A first line of the header's width, so that polars reads every line so (its
        width comes from the first line); dropped after the read."""
        return (self.options.delimiter.join(self._filler * self.expected) + "\n").encode()

    def _fast_header_ok(self) -> bool:
        """Whether the fast path may read the header: one row (or none), names from it."""
        options = self.options
        return options.rows_of_header <= 1 and not isinstance(options.columns, tuple)

    def _mark_skipped(self, table: pl.DataFrame) -> pl.DataFrame:
        """The line table with ``preamble`` and ``skip`` (preamble or comment) columns;
        in a safe block every line starts a record, so a comment prefix is a comment."""
        number = pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + self.line
        preamble = number <= self.options.skip_rows
        comment = self.options.comment
        skip = preamble if comment is None else preamble | pl.col("line").str.starts_with(comment)
        return table.with_columns(preamble=preamble, skip=skip)

    def _count_skipped(self, table: pl.DataFrame, skipped: int) -> None:
        """Count a fast block's lines: ``skipped`` of them are no records (preamble,
        comment, blank and header lines), the others one record each."""
        preamble = int(table.get_column("preamble").sum())
        comment = int(table.get_column("skip").sum()) - preamble
        blank = int((table.get_column("blank") & ~table.get_column("skip")).sum())
        self.skipper.skipped["preamble"] += preamble
        self.skipper.skipped["comment"] += comment
        records = table.height - skipped
        self.book.count(records, records, blank)

    # --- the exact path -----------------------------------------------------------------

    def _exact(self, block: str, blocks: Iterator[str]) -> Iterator[Piece]:
        """Read records with the csv module from ``block`` on, until a record ends at the
        end of a block (or the file ends); pieces as they fill up."""
        if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
            csv.field_size_limit(_FIELD_SIZE_LIMIT)
        lines = _Lines(block, blocks, self.skipper, self.line)
        reader = csv_reader(lines, self.options)
        base = self.line
        while True:
            lines.record = []
            error: str | None = None
            try:
                row: list[str] | None = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # this record's lines only: the reader goes on after it
                row, error = None, str(exc)
            self._chars += sum(map(len, lines.record))
            self._keep(self.book.offer(row, lines.record, base + lines.first, error))
            if lines.at_block_end:
                break  # a record boundary at a block end: the fast path may go on
            if self._chars >= self._target:
                piece = self._take()
                if piece.records:
                    yield piece
        self.line = base + lines.consumed
        self._flush_exact()

    def _keep(self, outcomes: list[Outcome]) -> None:
        """What the exact path's records made, added to the piece being built."""
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


def _read(
    utf8: bytes, options: CsvOptions, *, skip_lines: int, ragged: bool = True
) -> pl.DataFrame:
    return read_fields(utf8, options, skip_lines=skip_lines, ragged=ragged)
