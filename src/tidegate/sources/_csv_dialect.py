"""The CSV dialect of a file source: its options checked once, and read the same by both readers.

Both CSV readers (the whole-text oracle in ``_csv.py`` and the block reader in
``_csv_stream.py``) build their ``csv.reader`` with :func:`csv_reader` and skip the
lines that are not records with :class:`LineSkipper`, so the two cannot drift:

* ``skip_rows``: the first N physical lines (a preamble of titles and notes);
* ``comment``: a physical line that starts with this prefix where a record would start
  (inside a quoted field it is data);
* ``escape``: default the quote char itself (doubled quotes, RFC 4180), one char
  (``\\"`` is a literal quote), or ``"none"``; ``quote: "none"`` (or None): no quoting;
* a ``delimiter`` of several characters is translated to one placeholder character
  (NUL, which never occurs in decoded text) before parsing, and back in the values;
* ``header_rows`` and ``columns`` say where the names come from (see ``_csv_header.py``).

The polars fast path reads only what polars can express (:func:`fast_path_applies`);
every other dialect goes through the exact path.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tidegate.batches import RECORD_COLUMN
from tidegate.errors import SourceConfigError

if TYPE_CHECKING:
    from tidegate.sources._csv import CsvOptions
    from tidegate.sources._csv_header import CsvHeader

NONE = "none"  # `quote: none`, `escape: none`
PLACEHOLDER = "\x00"  # never in decoded text: a NUL character makes a file a FileReject
# the physical lines that are no records, by kind, as the readers count them
SKIPPED_KINDS = ("preamble", "comment", "header", "blank")
_LINE_BREAKS = "\r\n"


# the dialect keys of a file or landing source in a pipeline file, and their types
CSV_DIALECT_OPTIONS: dict[str, tuple[type, ...]] = {
    "skip_rows": (int,),
    "header_rows": (int,),
    "escape": (str, type(None)),
    "columns": (int, list),
    "comment": (str,),
}


def dialect_from_config(options: dict[str, Any]) -> dict[str, Any]:
    """Pipeline-file options as the file source takes them: YAML null for ``quote`` and
    ``escape`` means "none" (no quoting, no escaping)."""
    return {
        key: NONE if key in ("quote", "escape") and value is None else value
        for key, value in options.items()
    }


def _bad(option: str, value: object, valid: str) -> SourceConfigError:
    return SourceConfigError(
        f"{option} {value!r} is not valid: {valid} (fix `{option}:` in the pipeline file)"
    )


def check_dialect(options: CsvOptions) -> None:
    """Raise SourceConfigError, naming the option, the bad value and a valid example."""
    delimiter, quote, escape = options.delimiter, options.quote, options.escape
    if not isinstance(delimiter, str) or delimiter == "" or _has_break(delimiter):
        raise _bad(
            "delimiter",
            delimiter,
            "it must be one or more characters other than a line break, "
            "e.g. ',', '\\t', ';', '|' or '||'",
        )
    if quote is not None and (not isinstance(quote, str) or len(quote) != 1 or _has_break(quote)):
        raise _bad(
            "quote",
            quote,
            "it must be exactly one character other than a line break, e.g. '\"' or \"'\", "
            "or none for no quoting",
        )
    if quote is not None and quote in delimiter:
        raise SourceConfigError(
            f"delimiter {delimiter!r} contains the quote char {quote!r}; they must differ "
            "(the usual quote is '\"'; fix `delimiter:` or `quote:` in the pipeline file)"
        )
    if escape is not None and escape != NONE:
        if not isinstance(escape, str) or len(escape) != 1 or _has_break(escape):
            raise _bad(
                "escape",
                escape,
                "it must be exactly one character, e.g. '\\\\' (backslash), or none for no "
                "escaping; left out, a quote is escaped by doubling it",
            )
        if escape in delimiter:
            raise SourceConfigError(
                f"escape {escape!r} is part of the delimiter {delimiter!r}; they must differ "
                "(the usual escape is '\\\\'; fix `escape:` in the pipeline file)"
            )
    _check_count("skip_rows", options.skip_rows, "e.g. `skip_rows: 3` to skip a 3-line preamble")
    _check_count("header_rows", options.header_rows, "e.g. `header_rows: 2`, or 0 for no header")
    comment = options.comment
    if comment is not None and (
        not isinstance(comment, str) or comment == "" or _has_break(comment)
    ):
        raise _bad("comment", comment, "it must be a prefix without line breaks, e.g. '#'")
    if comment is not None and (comment == delimiter or (quote is not None and quote in comment)):
        raise _bad("comment", comment, "it must differ from the delimiter and the quote, e.g. '#'")
    _check_columns(options.columns, options.rows_of_header)


def _has_break(text: str) -> bool:
    return any(c in text for c in _LINE_BREAKS + PLACEHOLDER)


def _check_count(option: str, value: object, example: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(option, value, f"it must be a whole number >= 0, {example}")


def _check_columns(columns: object, header_rows: int) -> None:
    if columns is None:
        return
    if isinstance(columns, bool) or not isinstance(columns, int | tuple):
        raise _bad(
            "columns",
            columns,
            "give a field count (`columns: 3`) or names (`columns: [id, name, amount]`)",
        )
    if isinstance(columns, int):
        if columns < 1:
            raise _bad("columns", columns, "a field count must be >= 1, e.g. `columns: 3`")
        if header_rows:
            raise SourceConfigError(
                f"columns {columns!r} (a field count) contradicts header_rows {header_rows}: "
                "a count is for a file without a header; with a header give the names, "
                "e.g. `columns: [id, name, amount]`, or set `header_rows: 0` (fix the "
                "pipeline file)"
            )
        return
    if not columns or not all(isinstance(name, str) and name for name in columns):
        raise _bad(
            "columns",
            list(columns),
            "give one non-empty name per field, e.g. `columns: [id, name, amount]`",
        )
    if RECORD_COLUMN in columns:
        raise _bad("columns", list(columns), f"{RECORD_COLUMN} is the lineage column's name")
    if len(set(columns)) != len(columns):
        twice = sorted({name for name in columns if columns.count(name) > 1})
        raise _bad("columns", list(columns), f"names must differ ({', '.join(twice)} twice)")


def fast_path_applies(options: CsvOptions) -> bool:
    """Whether polars can read this dialect: a one-byte delimiter and quote (or no
    quoting) and the default escaping (doubled quotes)."""
    if len(options.delimiter.encode()) != 1:
        return False
    if options.quote is not None and len(options.quote.encode()) != 1:
        return False
    return options.escape is None or options.escape == options.quote


def reader_kwargs(options: CsvOptions) -> dict[str, Any]:
    """The ``csv.reader`` keyword arguments for this dialect (a multi-character delimiter
    is the placeholder, see :func:`csv_reader`)."""
    delimiter = options.delimiter if len(options.delimiter) == 1 else PLACEHOLDER
    kwargs: dict[str, Any] = {"delimiter": delimiter, "strict": False}
    if options.quote is None:
        kwargs.update(quoting=csv.QUOTE_NONE, quotechar=None)
    else:
        kwargs["quotechar"] = options.quote
    escape = options.escape
    if escape is None or escape == options.quote:
        kwargs.update(doublequote=True, escapechar=None)
    elif escape == NONE:
        kwargs.update(doublequote=False, escapechar=None)
    else:
        kwargs.update(doublequote=False, escapechar=escape)
    return kwargs


class DialectReader:
    """``csv.reader`` over record lines in this dialect: the one reader both CSV readers use.

    ``lines`` is an iterator of physical lines with a ``begin()`` method, called before
    each record (so it knows where a record starts: see :class:`LineSkipper`).
    """

    def __init__(self, lines: Any, options: CsvOptions) -> None:
        self._lines = lines
        self._delimiter = options.delimiter if len(options.delimiter) > 1 else None
        source: Iterable[str] = lines
        if self._delimiter is not None:
            source = (line.replace(self._delimiter, PLACEHOLDER) for line in lines)
        self._reader = csv.reader(source, **reader_kwargs(options))

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        self._lines.begin()
        row = next(self._reader)
        if self._delimiter is not None:
            row = [value.replace(PLACEHOLDER, self._delimiter) for value in row]
        return row


def csv_reader(lines: Any, options: CsvOptions) -> DialectReader:
    """The records of ``lines`` (see :class:`DialectReader`)."""
    return DialectReader(lines, options)


def strip_line_end(raw: str) -> str:
    """``raw`` without its last line end ("\r\n", "\n" or "\r")."""
    if raw.endswith("\r\n"):
        return raw[:-2]
    if raw.endswith(("\n", "\r")):
        return raw[:-1]
    return raw


def split_line(text: str, options: CsvOptions) -> list[str]:
    """One physical line (its line end left out or not) split into fields on its own, in
    this dialect: a quote still open at its end closes there; csv.Error raises."""
    if len(options.delimiter) > 1:
        text = text.replace(options.delimiter, PLACEHOLDER)
    row = next(csv.reader([text], **reader_kwargs(options)), [])
    if len(options.delimiter) > 1:
        row = [value.replace(PLACEHOLDER, options.delimiter) for value in row]
    return row


class LineSkipper:
    """Decides which physical lines are not records (preamble, comment) and counts them.

    ``skipped`` holds the counts by kind ("preamble", "comment"); the header's and the
    blank lines are counted by the reader's ``RecordBook`` (see ``_csv_records.py``).
    """

    def __init__(self, options: CsvOptions, header: CsvHeader | None = None) -> None:
        self.options = options
        self.skip_rows = options.skip_rows
        self.comment = options.comment
        self.skipped: dict[str, int] = {"preamble": 0, "comment": 0}
        # while ``header`` is being read, a header line is read alone if it leaves a
        # quote open (a stray quote), when the contract's columns are known to read by
        known = options.expected_columns is not None and options.quote is not None
        self._header = header if known else None

    def skips(self, line: str, number: int) -> bool:
        """Whether physical line ``number`` (1-based), where a record would start, is no
        record; counted if so."""
        if number <= self.skip_rows:
            self.skipped["preamble"] += 1
            return True
        if self.comment is not None and line.startswith(self.comment):
            self.skipped["comment"] += 1
            return True
        return False

    def start(self, line: str) -> str:
        """The line to parse for a record that starts with ``line``: itself, except for
        a header line that leaves a quote open (a stray quote), which is closed at the
        end of the line, so that the header does not swallow the lines after it."""
        if self._header is None or not self._header.reading:
            return line
        body = line.rstrip(_LINE_BREAKS)
        row = split_line(body + "\n", self.options)
        if row and row[-1].endswith("\n"):  # the quote is still open at the line end
            assert self.options.quote is not None
            return body + self.options.quote + line[len(body) :]
        return line


class RecordLines:
    """Physical lines handed to :class:`DialectReader`, with preamble and comment lines
    left out at record starts; ``first`` is the line number where the current record
    starts, ``consumed`` the physical lines read so far (skipped ones included)."""

    def __init__(self, physical: list[str], skipper: LineSkipper) -> None:
        self._physical = physical
        self._skipper = skipper
        self.consumed = 0
        self.first = 0
        self._at_start = True

    def __iter__(self) -> RecordLines:
        return self

    def begin(self) -> None:
        self._at_start = True

    def __next__(self) -> str:
        while True:
            if self.consumed == len(self._physical):
                raise StopIteration
            line = self._physical[self.consumed]
            self.consumed += 1
            if not self._at_start:
                return line
            if not self._skipper.skips(line, self.consumed):
                self._at_start = False
                self.first = self.consumed
                return self._skipper.start(line)
