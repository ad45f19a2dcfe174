"""Which CSV records the csv module's records really are: no record merged, none lost.

Python's ``csv`` module (``strict=False``) reads a quote that opens a field and is never
closed on its line into the next lines, so a stray quote joins two or more physical
records into one; a quote in the middle of a field is kept literally, so the row loads a
mangled value. Both readers of ``_csv.py`` / ``_csv_stream.py`` hand each record they
read, with its physical lines, to a :class:`RecordBook`, which decides what the record
is and counts every physical line once:

* a record that spans several lines and comes out wrong (ragged, a stray or unclosed
  quote, or a csv.Error) is **re-read line by line**: each physical line is parsed alone
  and becomes its own record, loaded or rejected with its own line number and text;
* a header that spans lines is a finding: the header is read from its first line alone
  and its other lines are data records again (read line by line);
* where the dialect doubles quotes (escape char = quote char), a quote that neither
  opens nor closes a whole field, and a quoted field never closed, are row findings
  (:func:`quote_problem`).

A multi-line record of the right width with well-formed quotes (a quoted line break)
stays one record. Lines are counted as records (with their span) or as ``skipped``
non-records ("blank", "header"), so that ``physical = record lines + skipped`` holds.
"""

from __future__ import annotations

import csv
import functools
import re
from typing import TYPE_CHECKING, Any

from tidegate.batches import RecordReject

if TYPE_CHECKING:
    from tidegate.sources._csv import CsvOptions

# (first line, lines spanned, what): the fields of a record to load, a RecordReject,
# or None for a blank line
Outcome = tuple[int, int, list[str] | RecordReject | None]

_SHOWN = 60  # characters of a field shown in a reason


_CSV: Any = None


def _csv() -> Any:
    """The ``_csv`` module (which imports this one: imported on first use)."""
    global _CSV
    if _CSV is None:
        from tidegate.sources import _csv

        _CSV = _csv
    return _CSV


def quote_of(options: CsvOptions) -> str | None:
    """The quote char, or None when the dialect quotes nothing (``quote: none``)."""
    quote = getattr(options, "quote", '"')
    return quote or None


def doubles_quotes(options: CsvOptions) -> bool:
    """True when a quote char inside a quoted field is written doubled (no other escape
    char): only then is a quote in the middle of a field a finding."""
    quote = quote_of(options)
    escape = getattr(options, "escape", None)
    return quote is not None and escape in (None, "", quote)


def reader_args(options: CsvOptions) -> dict[str, Any]:
    """The csv module's dialect for ``options`` (as the readers build it)."""
    quote = quote_of(options)
    escape = getattr(options, "escape", None)
    args: dict[str, Any] = {"delimiter": options.delimiter, "strict": False}
    if quote is None:
        args["quoting"] = csv.QUOTE_NONE
    else:
        args["quotechar"] = quote
    if escape and escape != quote:
        args["escapechar"] = escape
        args["doublequote"] = False
    return args


@functools.lru_cache(maxsize=32)
def _patterns(delimiter: str, quote: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A record of well-formed fields (fullmatch), and one quoted field from its start.

    As the csv module reads it: inside quotes a doubled quote is one quote char, and the
    first quote char not doubled closes the field (possessive: no backtracking)."""
    d, q = re.escape(delimiter), re.escape(quote)
    plain = f"[^{q}{d}\r\n]*+" if len(delimiter) == 1 else f"(?:(?!{d})[^{q}\r\n])*+"
    quoted = f"{q}(?:[^{q}]|{q}{q})*+{q}"
    field = f"(?:{quoted}|{plain})"
    # the record's text, its last line end included or not
    return re.compile(f"{field}(?:{d}{field})*+(?:\r\n|\r|\n)?"), re.compile(quoted)


def _shown(value: str) -> str:
    value = value.replace("\r", "\\r").replace("\n", "\\n")
    return value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "..."


def quote_problem(text: str, options: CsvOptions) -> str | None:
    """Why the quotes of one record's text (no final line end) are not well-formed, or
    None: a stray quote (one that does not open or close a whole field, and is not a
    doubled quote inside a quoted field) or a quoted field never closed. Only for a
    dialect that doubles quotes (:func:`doubles_quotes`)."""
    quote, delimiter = quote_of(options), options.delimiter
    if quote is None or quote not in text:
        return None
    whole, quoted = _patterns(delimiter, quote)
    if whole.fullmatch(text):
        return None
    at, index = 0, 1
    while True:
        if text.startswith(quote, at):
            match = quoted.match(text, at)
            if match is None:
                return (
                    f"unclosed quote in field {index} ({_shown(text[at:])}): close the "
                    f"quote, or double a quote that is part of the value ({quote}{quote})"
                )
            end = match.end()
        else:
            end = at
            while end < len(text) and not text.startswith((quote, delimiter), end):
                end += 1
        if end == len(text):
            return None  # not reached: the whole text matched after all
        if text.startswith(delimiter, end):
            at, index = end + len(delimiter), index + 1
            continue
        stop = text.find(delimiter, end)
        value = text[at : len(text) if stop < 0 else stop]
        doubled = value.replace(quote, quote + quote)
        return (
            f"stray quote in field {index} ({quote}{_shown(value)}{quote}): quote a field "
            f"that contains quotes and double them ({quote}{_shown(doubled)}{quote})"
        )


def _read_alone(text: str, options: CsvOptions) -> list[str]:
    """One physical line (no line end) split into fields on its own; csv.Error raises."""
    return next(csv.reader([text], **reader_args(options)))


class RecordBook:
    """Decides what each record the csv module read is, and counts every line once.

    ``records`` and ``record_lines`` count the records made and the lines they span;
    ``skipped_lines`` the lines that are no record (``blank``, ``header``)."""

    def __init__(self, options: CsvOptions) -> None:
        self.options = options
        self.quotes = doubles_quotes(options)
        self.quote = quote_of(options) or ""  # "": no quote char (and no quote checks)
        self._well_formed = (
            _patterns(options.delimiter, self.quote)[0].fullmatch
            if self.quotes and self.quote
            else None
        )
        self.records = 0
        self.record_lines = 0
        self.skipped_lines: dict[str, int] = {}

    def skip(self, kind: str, lines: int = 1) -> None:
        if lines:
            self.skipped_lines[kind] = self.skipped_lines.get(kind, 0) + lines

    def count(self, records: int, lines: int) -> None:
        """Records read elsewhere (the fast path): ``records`` covering ``lines``."""
        self.records += records
        self.record_lines += lines

    def keep(
        self,
        outcomes: list[Outcome],
        columns: list[list[str]],
        numbers: list[int],
        rejects: list[RecordReject],
    ) -> None:
        """Add ``outcomes`` to a reader's columns, line numbers and rejects; count them."""
        for line, span, what in outcomes:
            if what is None:
                self.skip("blank")
                continue
            self.records += 1
            self.record_lines += span
            if isinstance(what, RecordReject):
                rejects.append(what)
                continue
            for column, value in zip(columns, what, strict=True):
                column.append(value)
            numbers.append(line)

    # --- the first record: the header, or the first row's width ---------------------------

    def first(
        self, row: list[str] | None, lines: list[str], start: int, error: str | None = None
    ) -> tuple[int, list[str] | None, list[Outcome]]:
        """The first non-blank record: the expected field count, the header's names (None
        without a header) and the records it makes (none for a header of one line)."""
        has_header = self.options.has_header
        if row is not None and len(lines) == 1 and error is None:
            if has_header:
                self.skip("header")
                return len(row), row, []
            return len(row), None, self.data(row, lines, start, len(row))
        problem = None if row is None or error else self._problem(row, lines)
        if not has_header and error is None and problem is None:
            assert row is not None  # a record of several lines, well-formed
            return len(row), None, self.data(row, lines, start, len(row))
        text = _csv()._strip_line_end(lines[0])
        try:
            header = _read_alone(text, self.options)
        except csv.Error:
            header = text.split(self.options.delimiter)
        if not has_header:
            return len(header), None, self.data(row, lines, start, len(header), error)
        end = start + len(lines) - 1
        into = f"line {start + 1}" if end == start + 1 else f"lines {start + 1}-{end}"
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        why = (
            f"the csv reader failed on {span} ({error})"
            if error
            else f"a quote opened in the header ran into {into}"
        )
        alone = f"header read from line {start} alone"
        if self.quotes and self.quote and quote_problem(text, self.options):
            # the quote runs on to the line's end even there: taken as a plain character
            quote = self.quote
            plain = text.split(self.options.delimiter)
            header = [name[1:] if name.startswith(quote) else name for name in plain]
            header = [name[:-1] if name.endswith(quote) else name for name in header]
            alone += f", its quotes dropped ({self.options.delimiter.join(header)})"
        finding = RecordReject(start, text, f"malformed header: {why}; {alone}")
        why = "a quote opened in the header ran into this line"
        if error:
            why = f"the header's lines could not be split: {error}"
        rest = self._each_line(lines[1:], start + 1, len(header), why)
        return len(header), header, [(start, 1, finding), *rest]

    # --- data records ---------------------------------------------------------------------

    def data(
        self,
        row: list[str] | None,
        lines: list[str],
        start: int,
        expected: int,
        error: str | None = None,
    ) -> list[Outcome]:
        """What one record read by the csv module (``row``; None with the csv.Error
        ``error``) over physical ``lines`` from line ``start`` makes."""
        span = len(lines)
        if row is None or error is not None:
            if span == 1:
                raw = _csv()._strip_line_end(lines[0])
                return [(start, 1, RecordReject(start, raw, f"cannot split into fields: {error}"))]
            end = start + span - 1
            why = f"the csv reader failed on lines {start}-{end}: {error}"
            return self._each_line(lines, start, expected, why)
        if not row:
            return [(start, span, None)]  # a blank line
        if span == 1 and len(row) == expected:  # the usual record: checked at C speed
            line, well_formed = lines[0], self._well_formed
            if well_formed is None or self.quote not in line or well_formed(line):
                return [(start, 1, row)]
        ragged = len(row) != expected
        problem = self._problem(row, lines)
        if span > 1 and (ragged or problem):
            end = start + span - 1
            why = (
                f"an unclosed quote at line {start} ran into the next lines"
                if problem
                else f"lines {start}-{end} made one record of {len(row)} fields"
            )
            return self._each_line(lines, start, expected, why)
        if ragged or problem:
            raw = _csv()._strip_line_end("".join(lines))
            reason = problem if not ragged else self._ragged(len(row), expected)
            return [(start, span, RecordReject(start, raw, reason or ""))]
        return [(start, span, row)]

    def _problem(self, row: list[str], lines: list[str]) -> str | None:
        well_formed = self._well_formed
        text = lines[0] if len(lines) == 1 else "".join(lines)
        if well_formed is None or self.quote not in text or well_formed(text):
            return None
        return quote_problem(_csv()._strip_line_end(text), self.options)

    def _ragged(self, found: int, expected: int) -> str:
        reason: str = _csv()._ragged_reason(found, expected, self.options.has_header)
        return reason

    def _each_line(self, lines: list[str], start: int, expected: int, why: str) -> list[Outcome]:
        """Each physical line parsed alone: its own record (or a blank line); ``why``
        it is, in the reason of each line that does not load."""
        context = f"({why}; each line read on its own)"
        out: list[Outcome] = []
        for number, line in enumerate(lines, start):
            text = _csv()._strip_line_end(line)
            if text == "":
                out.append((number, 1, None))
                continue
            try:
                fields = _read_alone(text, self.options)
            except csv.Error as exc:
                out.append(
                    (
                        number,
                        1,
                        RecordReject(number, text, f"cannot split into fields: {exc} {context}"),
                    )
                )
                continue
            if len(fields) != expected:
                reason = f"{self._ragged(len(fields), expected)} {context}"
                out.append((number, 1, RecordReject(number, text, reason)))
                continue
            problem = self._problem(fields, [text])
            if problem:
                out.append((number, 1, RecordReject(number, text, f"{problem} {context}")))
                continue
            out.append((number, 1, fields))
        return out
