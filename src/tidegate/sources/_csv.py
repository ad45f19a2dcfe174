"""Read one CSV file's bytes into a RawBatch: every value a string, exactly as in the file.

Two parsers give the same answer on the same text:

* the **fast path** (polars) for files where no record spans lines and every quote
  char opens or closes a whole field; it splits the text into lines, counts the fields
  of each line with vectorised expressions, and parses with ``pl.read_csv``;
* the **slow path** (Python's ``csv`` module), exact for embedded newlines, quotes in
  the middle of fields and other oddities.

Ragged rows (a field count different from the header's) become RecordRejects on both.
The dialect (preamble, multi-row header, escapes, no quoting, multi-character
delimiters, ``columns:``, comments) is read by ``_csv_dialect.py`` and
``_csv_header.py``; the fast path declines whatever polars cannot express, and this
whole-text reader is the oracle the block reader (``_csv_stream.py``) is held to.
What each record the csv module reads really is (a stray quote never merges records: a
record of several lines that comes out wrong is read again line by line; a quote in the
middle of a field is a finding) is decided in ``_csv_records.py``, which also counts
how every physical line was used (``ParsedCsv.line_counts``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from tidegate.batches import RECORD_COLUMN, LineCounts, RawBatch, RecordReject
from tidegate.errors import SourceConfigError
from tidegate.sources._csv_dialect import (
    NONE,
    LineSkipper,
    RecordLines,
    check_dialect,
    csv_reader,
    fast_path_applies,
)
from tidegate.sources._csv_dialect import (
    PLACEHOLDER as _PLACEHOLDER,
)
from tidegate.sources._csv_header import CsvHeader
from tidegate.sources._csv_records import RecordBook
from tidegate.sources._text import FileInfo, FileReject, check_encoding, decode_text, unique_names

_FIELD_SIZE_LIMIT = 1 << 30


@dataclass(frozen=True)
class CsvOptions:
    """How to split a CSV file into fields; validated when built (see ``_csv_dialect.py``).

    ``quote`` None (or "none"): no quoting; ``escape`` None: quotes are doubled, "none":
    no escaping, one char: that char escapes; ``header_rows`` None: 1 with ``has_header``,
    else 0; ``columns``: a field count or names; ``expected_columns``: the contract's
    column names, handed over by the caller (see ``_csv_header.py``).
    """

    delimiter: str = ","
    quote: str | None = '"'
    encoding: str = "utf-8"
    has_header: bool = True
    skip_rows: int = 0
    header_rows: int | None = None
    escape: str | None = None
    columns: int | tuple[str, ...] | None = None
    comment: str | None = None
    expected_columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.has_header, bool):
            raise SourceConfigError(f"has_header {self.has_header!r} is not valid: use true/false")
        if self.quote == NONE:
            object.__setattr__(self, "quote", None)
        if isinstance(self.columns, list):
            object.__setattr__(self, "columns", tuple(self.columns))
        if self.expected_columns is not None:
            object.__setattr__(self, "expected_columns", tuple(self.expected_columns))
        if self.header_rows is None:
            object.__setattr__(self, "header_rows", 1 if self.has_header else 0)
        elif not self.has_header and self.header_rows not in (0, False):
            raise SourceConfigError(
                f"has_header false contradicts header_rows {self.header_rows!r}; give one "
                "of them (`header_rows: 0` means no header) in the pipeline file"
            )
        check_dialect(self)
        object.__setattr__(self, "has_header", bool(self.header_rows))
        check_encoding(self.encoding)

    @property
    def rows_of_header(self) -> int:
        """``header_rows`` resolved (never None after construction)."""
        return int(self.header_rows or 0)


def csv_options(fmt: str, *, delimiter: str | None = None, **options: Any) -> CsvOptions:
    """The CsvOptions of a file of format ``fmt`` (csv or tsv): ``delimiter`` None is a
    tab for tsv and a comma otherwise; the other options as CsvOptions takes them."""
    return CsvOptions(
        delimiter=("\t" if fmt == "tsv" else ",") if delimiter is None else delimiter, **options
    )


@dataclass
class ParsedCsv:
    """Result of splitting CSV text: a frame of Utf8 columns plus the lineage column."""

    frame: pl.DataFrame
    rejects: list[RecordReject] = field(default_factory=list)
    path: Literal["fast", "slow", "empty"] = "slow"
    # every physical line is in a record (record_lines: the lines records span) or a
    # counted non-record (skipped_lines, by kind: "preamble", "comment", "header",
    # "blank"; kinds with no line left out)
    physical_lines: int = 0
    record_lines: int = 0
    skipped_lines: dict[str, int] = field(default_factory=dict)

    @property
    def line_counts(self) -> LineCounts:
        records = self.frame.height + len(self.rejects)
        return LineCounts(self.physical_lines, records, self.record_lines, self.skipped_lines)


def read_csv_bytes(data: bytes, info: FileInfo, options: CsvOptions) -> RawBatch | FileReject:
    """Read one CSV file's bytes; a file that cannot be read at all is a FileReject."""
    text = decode_text(data, options.encoding, info, "CSV")
    if isinstance(text, FileReject):
        return text
    utf8: bytes | None = None
    if check_encoding(options.encoding) == "utf-8":
        utf8 = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    parsed = parse_csv_text(text, options, utf8=utf8)
    return RawBatch(
        source=info.source,
        location=info.location,
        content_sha256=info.content_sha256 or "",
        frame=parsed.frame,
        rejects=tuple(parsed.rejects),
        fmt="csv",
    )


def parse_csv_text(
    text: str,
    options: CsvOptions,
    *,
    path: Literal["auto", "fast", "slow"] = "auto",
    utf8: bytes | None = None,
) -> ParsedCsv:
    """Split decoded CSV text (no BOM) into records.

    ``path="fast"`` raises ValueError when the fast path does not apply (for tests);
    ``utf8`` may pass the text already encoded as UTF-8 to save a copy.
    """
    if path != "slow":
        fast = _parse_fast(text, options, utf8)
        if fast is not None:
            return fast
        if path == "fast":
            raise ValueError("the fast path does not apply to this text")
    return _parse_slow(text, options)


def _ragged_reason(found: int, expected: int, has_header: bool) -> str:
    against = "header has" if has_header else "first record has"
    return f"ragged row: {found} fields, {against} {expected}"


def _empty(**counts: Any) -> ParsedCsv:
    return ParsedCsv(pl.DataFrame(schema={RECORD_COLUMN: pl.Int64}), [], "empty", **counts)


def _hex(char: str) -> str:
    return f"\\x{{{ord(char):X}}}"  # a regex escape that is valid for any character


def _split_lines(utf8: bytes) -> pl.Series:
    """The lines of the text (split on "\n" only, one trailing "\r" dropped), via polars.

    The text has no NUL character, so a NUL separator and no quoting make each whole
    line one field; this is about 20 times faster than ``str.split`` on one big string.
    """
    return pl.read_csv(
        utf8,
        has_header=False,
        separator=_PLACEHOLDER,
        quote_char=None,
        infer_schema=False,
        empty_string_is_null=False,
        new_columns=["line"],
    ).get_column("line")


def _line_table(utf8: bytes, options: CsvOptions) -> pl.DataFrame | None:
    """One row per line: text without its ending, blank, field count, fast-path safety."""
    lines = _split_lines(utf8)
    fields = lines.str.count_matches(options.delimiter, literal=True) + 1
    broken = lines.str.contains("\r", literal=True)
    if options.quote is None:  # no quoting: every line is its fields
        table = pl.DataFrame({"line": lines, "blank": lines == "", "fields": fields})
        return None if broken.any() else table.with_columns(unsafe=broken)
    delim, quote = _hex(options.delimiter), _hex(options.quote)
    quoted_field = f"{quote}(?:[^{quote}]|{quote}{quote})*{quote}"
    # After replacing each well-formed quoted segment by a placeholder, a line is safe
    # for polars when no quote char is left and every placeholder is a whole field.
    # A "\r" inside a line, even inside quotes, ends a line for Python's csv module.
    unsafe = f"{quote}|[^{delim}]\\x00|\\x00[^{delim}]"
    quoted = lines.str.contains(options.quote, literal=True)
    if quoted.any():  # the regexes run only on the lines that have a quote char (usually few)
        at = quoted.arg_true()
        masked = lines.gather(at).str.replace_all(quoted_field, _PLACEHOLDER)
        fields = fields.scatter(at, masked.str.count_matches(options.delimiter, literal=True) + 1)
        broken = broken.scatter(at, broken.gather(at) | masked.str.contains(unsafe))
    table = pl.DataFrame({"line": lines, "blank": lines == "", "fields": fields, "unsafe": broken})
    if table.get_column("unsafe").any():
        return None
    return table


def read_fields(
    utf8: bytes, options: CsvOptions, *, skip_lines: int, ragged: bool = True
) -> pl.DataFrame:
    """polars' CSV reader on text the fast path deems safe: every field as a string.

    ``ragged`` False: a line of more fields than the first raises a polars ComputeError
    (with True it is cut to the first line's width)."""
    return pl.read_csv(
        utf8,
        has_header=False,
        skip_lines=skip_lines,
        separator=options.delimiter,
        quote_char=options.quote,
        infer_schema=False,
        empty_string_is_null=False,
        truncate_ragged_lines=ragged,
        raise_if_empty=False,
    )


def _parse_fast(text: str, options: CsvOptions, utf8: bytes | None) -> ParsedCsv | None:
    if not fast_path_applies(options):
        return None  # polars takes single-byte separators and doubled quotes only
    if options.skip_rows or options.comment is not None or options.columns is not None:
        return None  # the exact path skips lines and fixes names (this is the oracle)
    if options.rows_of_header > 1:
        return None
    if text == "":
        return _empty()
    if utf8 is None:
        utf8 = text.encode("utf-8")
    table = _line_table(utf8, options)
    if table is None:
        return None
    non_blank = (~table.get_column("blank")).arg_true()
    blank_lines = table.height - non_blank.len()
    if non_blank.len() == 0:
        return _empty(physical_lines=table.height, skipped_lines={"blank": blank_lines})
    header_at = int(non_blank[0])
    expected = int(table.get_column("fields")[header_at])
    declared = options.expected_columns
    if options.has_header and declared is not None and expected != len(declared):
        return None  # maybe a malformed header: the exact path decides
    frame = read_fields(utf8, options, skip_lines=header_at)
    lines = table.slice(header_at).with_row_index("offset", offset=header_at)
    if frame.height != lines.height or frame.width != expected:
        return None  # polars saw the text differently: let the exact parser decide
    if options.has_header:
        names = unique_names("" if v is None else str(v) for v in frame.row(0))
        first_data = 1
    else:
        names = unique_names([""] * expected)
        first_data = 0
    frame = frame.slice(first_data)
    lines = lines.slice(first_data)
    blank, fields = lines.get_column("blank"), lines.get_column("fields")
    ragged = ~blank & (fields != expected)
    rejects = [
        RecordReject(
            record=int(row["offset"]) + 1,
            raw=str(row["line"]),
            reason=_ragged_reason(int(row["fields"]), expected, options.has_header),
        )
        for row in (lines.filter(ragged).iter_rows(named=True) if ragged.any() else ())
    ]
    line_numbers = (lines.get_column("offset").cast(pl.Int64) + 1).alias(RECORD_COLUMN)
    keep = ~blank & ~ragged
    if not keep.all():  # filtering copies every column: only when something is dropped
        frame, line_numbers = frame.filter(keep), line_numbers.filter(keep)
    out = frame.select(
        pl.col(old).alias(new) for old, new in zip(frame.columns, names, strict=True)
    ).with_columns(line_numbers)
    skipped = {"header": first_data, "blank": blank_lines}  # a record is one line here
    skipped = {kind: n for kind, n in skipped.items() if n}
    records = out.height + len(rejects)
    return ParsedCsv(out, rejects, "fast", table.height, records, skipped)


def _parse_slow(text: str, options: CsvOptions) -> ParsedCsv:
    if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
        csv.field_size_limit(_FIELD_SIZE_LIMIT)
    physical = io.StringIO(text, newline="").readlines()
    header = CsvHeader(options)
    skipper = LineSkipper(options, header)
    book = RecordBook(options, header, skipper)  # what each record is; every line counted
    lines = RecordLines(physical, skipper)
    reader = csv_reader(lines, options)
    columns: list[list[str]] = []
    line_numbers: list[int] = []
    rejects: list[RecordReject] = []
    while True:
        error: str | None = None
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # this record's lines only: the reader goes on after it
            row, error = None, str(exc)
        record = physical[lines.first - 1 : lines.consumed]
        book.keep(book.offer(row, record, lines.first, error), columns, line_numbers, rejects)
    book.keep(book.finish(), columns, line_numbers, rejects)  # a header not yet settled
    counts: dict[str, Any] = {
        "physical_lines": len(physical),
        "record_lines": book.record_lines,
        "skipped_lines": book.skipped_lines,
    }
    if header.names is None:
        return _empty(**counts)
    names = header.names
    if not columns:
        columns.extend([] for _ in range(header.expected))
    data: dict[str, list[str] | list[int]] = dict(zip(names, columns, strict=True))
    schema: dict[str, pl.DataType] = {name: pl.String() for name in names}
    data[RECORD_COLUMN] = line_numbers
    schema[RECORD_COLUMN] = pl.Int64()
    return ParsedCsv(pl.DataFrame(data, schema=schema), rejects, "slow", **counts)
