"""Which CSV records the csv module's records really are: no record merged, none lost.

Python's ``csv`` module (``strict=False``) reads a quote that opens a field and is never
closed on its line into the next lines, so a stray quote joins two or more physical
records into one; a quote in the middle of a field is kept literally, so the row loads a
mangled value. Both readers of ``_csv.py`` / ``_csv_stream.py`` hand each record they
read, with its physical lines, to a :class:`RecordBook`, which decides what the record
is (with the reader's :class:`~tidegate.sources._csv_header.CsvHeader` for the records
before the names are known) and counts every physical line once:

* a record that spans several lines and comes out wrong (ragged, a stray or unclosed
  quote, or a csv.Error) is **re-read line by line**: each physical line is split alone
  in the file's dialect (:func:`~tidegate.sources._csv_dialect.split_line`) and is a
  record start again (a comment line there is a comment), loaded or rejected with its
  own line number and text;
* a header row that spans lines is a finding: it is read from its first line alone (the
  header is then one RecordReject, its names still used) and its other lines are
  records again (read line by line);
* where the dialect doubles quotes (escape char = quote char), a quote that neither
  opens nor closes a whole field, and a quoted field never closed, are row findings
  (:func:`quote_problem`); with another escape char or no quoting there is no such rule.

A multi-line record of the right width with well-formed quotes (a quoted line break)
stays one record. Lines are counted as records (with their span) or as skipped
non-records (:data:`~tidegate.sources._csv_dialect.SKIPPED_KINDS`: the preamble and
comments, counted by the reader's ``LineSkipper``; the header's lines; blank lines), so
that ``physical = record lines + skipped`` holds for every dialect.
"""

from __future__ import annotations

import csv
import functools
import re
from typing import TYPE_CHECKING

from tidegate.batches import RecordReject
from tidegate.sources._csv_dialect import SKIPPED_KINDS, LineSkipper, split_line, strip_line_end
from tidegate.sources._csv_header import CsvHeader, HeldRecord

if TYPE_CHECKING:
    from tidegate.sources._csv import CsvOptions

# (first line, lines spanned, what): the fields of a record to load, a RecordReject,
# or None for a blank line
Outcome = tuple[int, int, list[str] | RecordReject | None]

_SHOWN = 60  # characters of a field shown in a reason


def doubles_quotes(options: CsvOptions) -> bool:
    """True when a quote char inside a quoted field is written doubled (no other escape
    char): only then is a quote in the middle of a field a finding."""
    quote = options.quote
    return quote is not None and options.escape in (None, quote)


@functools.lru_cache(maxsize=32)
def well_formed_patterns(delimiter: str, quote: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
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
    quote, delimiter = options.quote, options.delimiter
    if quote is None or quote not in text:
        return None
    whole, quoted = well_formed_patterns(delimiter, quote)
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


class RecordBook:
    """Decides what each record the csv module read is, and counts every line once.

    One per reader and text, with the reader's header and line skipper. :meth:`offer`
    takes a record as read (and gives what it makes), :meth:`keep` adds that to the
    reader's columns and rejects; ``records`` and ``record_lines`` count the records
    made and the lines they span, :attr:`skipped_lines` the lines that are no record."""

    def __init__(self, options: CsvOptions, header: CsvHeader, skipper: LineSkipper) -> None:
        self.options = options
        self.header = header
        self.skipper = skipper
        self.quotes = doubles_quotes(options)
        self.quote = options.quote or ""  # "": no quote char (and no quote checks)
        self._well_formed = (
            well_formed_patterns(options.delimiter, self.quote)[0].fullmatch
            if self.quotes
            else None
        )
        self.records = 0
        self.record_lines = 0
        self.blank_lines = 0

    @property
    def skipped_lines(self) -> dict[str, int]:
        """The physical lines so far that are no record, by kind (kinds with none left out)."""
        counts = {
            **self.skipper.skipped,
            "header": self.header.header_lines,
            "blank": self.blank_lines,
        }
        return {kind: counts[kind] for kind in SKIPPED_KINDS if counts.get(kind)}

    def count(self, records: int, lines: int, blank: int = 0) -> None:
        """Records read elsewhere (the fast path): ``records`` covering ``lines``; and
        ``blank`` lines."""
        self.records += records
        self.record_lines += lines
        self.blank_lines += blank

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
                self.blank_lines += span
                continue
            self.records += 1
            self.record_lines += span
            if isinstance(what, RecordReject):
                rejects.append(what)
                continue
            if len(columns) != len(what):  # the first row after the names are known
                assert not any(columns)
                columns[:] = [[] for _ in what]
            for column, value in zip(columns, what, strict=True):
                column.append(value)
            numbers.append(line)

    # --- one record as the csv module read it ----------------------------------------------

    def offer(
        self,
        row: list[str] | None,
        lines: list[str],
        start: int,
        error: str | None = None,
        why: str | None = None,
    ) -> list[Outcome]:
        """What one record (``row``; None with the csv.Error ``error``) over physical
        ``lines`` from line ``start`` makes; ``why``: it is a line re-read on its own."""
        header = self.header
        if row == [] and error is None:
            return [(start, len(lines), None)]  # a blank line
        if header.settled:
            return self.data(row, lines, start, header.expected, error, why)
        if header.deciding:
            raw = strip_line_end("".join(lines))
            held = header.hold(HeldRecord(row, start, raw, lines, error, why))
            return [] if held is None else self.release(held)
        if header.rows_wanted == 0:  # no header: the first record gives the field count
            width = self._width(row, lines, error)
            header.take([""] * width, start, "", 0)
            return self.data(row, lines, start, width, error, why)
        if row is not None and len(lines) == 1 and error is None:
            header.take(row, start, strip_line_end(lines[0]), 1)
            return self._header_rejects()
        return self._header_alone(row, lines, start, error)

    def release(self, held: list[HeldRecord] | None = None) -> list[Outcome]:
        """Decide the header (if not yet) and judge the records held until then."""
        if held is None:
            held = self.header.decide()
        out = self._header_rejects()
        for record in held:
            out.extend(self.offer(record.row, record.lines, record.start, record.error, record.why))
        return out

    def finish(self) -> list[Outcome]:
        """At the end of the text: a header still being read or decided is settled on
        what was read, and the records held meanwhile are judged."""
        self.header.end()
        out = self._header_rejects()
        return out + self.release() if self.header.deciding else out

    def _header_rejects(self) -> list[Outcome]:
        span = self.header.lines_read
        return [(reject.record, span, reject) for reject in self.header.take_rejects()]

    def _width(self, row: list[str] | None, lines: list[str], error: str | None) -> int:
        """The field count of a first record without a header: its own if it is one line
        or well-formed, else that of its first line read alone."""
        if row is not None and error is None and (len(lines) == 1 or not self._problem(lines)):
            return len(row)
        return len(self._first_line_fields(strip_line_end(lines[0])))

    def _first_line_fields(self, text: str) -> list[str]:
        try:
            return split_line(text, self.options)
        except csv.Error:
            return text.split(self.options.delimiter)

    def _header_alone(
        self, row: list[str] | None, lines: list[str], start: int, error: str | None
    ) -> list[Outcome]:
        """A header row that spans lines, or that the csv module could not split: read
        from its first line alone (a finding), its other lines records again."""
        text = strip_line_end(lines[0])
        names = self._first_line_fields(text)
        end = start + len(lines) - 1
        into = f"line {start + 1}" if end == start + 1 else f"lines {start + 1}-{end}"
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        why = (
            f"the csv reader failed on {span} ({error})"
            if error
            else f"a quote opened in the header ran into {into}"
        )
        alone = f"header read from line {start} alone"
        if self.quotes and quote_problem(text, self.options):
            # the quote runs on to the line's end even there: taken as a plain character
            quote = self.quote
            plain = text.split(self.options.delimiter)
            names = [name[1:] if name.startswith(quote) else name for name in plain]
            names = [name[:-1] if name.endswith(quote) else name for name in names]
            alone += f", its quotes dropped ({self.options.delimiter.join(names)})"
        self.header.note(f"malformed header: {why}; {alone}")
        self.header.take(names, start, text, 1)
        out = self._header_rejects()
        why = "a quote opened in the header ran into this line"
        if error:
            why = f"the header's lines could not be split: {error}"
        return out + self._each_line(lines[1:], start + 1, why)

    # --- data records ---------------------------------------------------------------------

    def data(
        self,
        row: list[str] | None,
        lines: list[str],
        start: int,
        expected: int,
        error: str | None = None,
        why: str | None = None,
    ) -> list[Outcome]:
        """What one data record read by the csv module (``row``; None with the csv.Error
        ``error``) over physical ``lines`` from line ``start`` makes."""
        span = len(lines)
        context = f" ({why}; each line read on its own)" if why else ""
        if row is None or error is not None:
            if span == 1:
                raw = strip_line_end(lines[0])
                reason = f"cannot split into fields: {error}{context}"
                return [(start, 1, RecordReject(start, raw, reason))]
            failed = f"the csv reader failed on lines {start}-{start + span - 1}: {error}"
            return self._each_line(lines, start, failed)
        if not row:
            return [(start, span, None)]  # a blank line
        if span == 1 and len(row) == expected:  # the usual record: checked at C speed
            line, well_formed = lines[0], self._well_formed
            if well_formed is None or self.quote not in line or well_formed(line):
                return [(start, 1, row)]
        ragged = len(row) != expected
        problem = self._problem(lines)
        if span > 1 and (ragged or problem):
            end = start + span - 1
            merged = (
                f"an unclosed quote at line {start} ran into the next lines"
                if problem
                else f"lines {start}-{end} made one record of {len(row)} fields"
            )
            return self._each_line(lines, start, merged)
        if ragged or problem:
            raw = strip_line_end("".join(lines))
            found = problem if not ragged else self.header.ragged_reason(len(row))
            return [(start, span, RecordReject(start, raw, f"{found or ''}{context}"))]
        return [(start, span, row)]

    def _problem(self, lines: list[str]) -> str | None:
        well_formed = self._well_formed
        text = lines[0] if len(lines) == 1 else "".join(lines)
        if well_formed is None or self.quote not in text or well_formed(text):
            return None
        return quote_problem(strip_line_end(text), self.options)

    def _each_line(self, lines: list[str], start: int, why: str) -> list[Outcome]:
        """Each physical line split alone: a record start again (so a blank line is blank
        and a comment line a comment), offered as its own record; ``why`` it is, in the
        reason of each line that does not load."""
        out: list[Outcome] = []
        for number, line in enumerate(lines, start):
            text = strip_line_end(line)
            if text == "":
                out.append((number, 1, None))
                continue
            if self.skipper.skips(line, number):
                continue  # counted by the skipper
            try:
                fields: list[str] | None = split_line(text, self.options)
                error = None
            except csv.Error as exc:
                fields, error = None, str(exc)
            out.extend(self.offer(fields, [line], number, error, why))
        return out
