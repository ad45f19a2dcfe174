"""The header of one CSV text, read record by record: column names, field count, findings.

Where the names come from:

* ``header_rows: N`` (default 1): the first N non-blank records; a column's name is
  its cells from those rows joined with a single space, empty cells left out;
* ``header_rows: 0``: no header: ``columns:`` (a count or names) or generated names,
  and the field count of ``columns:`` or of the first record;
* ``columns: [names]`` with a header: these names and their count; a header that
  reads otherwise is quarantined once (one RecordReject for its lines).

``expected`` (the contract's column names, handed over by the source's caller, not a
pipeline-file key) repairs a malformed header: when the header's field count differs
from the contract's and most of the first :data:`DECIDE_RECORDS` records have the
contract's count, the rows are read by the contract's names and order, and the header
is one RecordReject. Until that is decided, records are held (:meth:`CsvHeader.hold`).

A header row that could only be read from its first line alone (see ``_csv_records.py``)
is noted (:meth:`CsvHeader.note`): the header is then one RecordReject too, its names
still used. A header's lines are counted as ``header`` lines when it is taken as it
reads, and as the lines of its RecordReject otherwise (:attr:`CsvHeader.lines_read`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tidegate.batches import RecordReject
from tidegate.sources._text import unique_names

if TYPE_CHECKING:
    from tidegate.sources._csv import CsvOptions

DECIDE_RECORDS = 100  # records looked at to decide whether the header is malformed
_SHOWN_NAMES = 6


@dataclass
class HeldRecord:
    """A record read while the header is undecided: its fields (None: the csv.Error
    ``error``), first line, raw text, physical lines and why it was read alone (if it was
    re-read line by line), so that it is judged once decided as if read then."""

    row: list[str] | None
    start: int
    raw: str
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    why: str | None = None


class CsvHeader:
    """The header state of one CSV text (see the module docstring)."""

    def __init__(self, options: CsvOptions) -> None:
        self.options = options
        self.rows_wanted = options.rows_of_header
        self.names: list[str] | None = None
        self.expected = 0
        self.against = "header has"  # for ragged reasons: "... fields, header has N"
        self.rejects: list[RecordReject] = []  # the header's own reject, at most one
        self.header_lines = 0  # physical lines of the header, once counted as a header
        self.deciding = False
        self.held: list[HeldRecord] = []
        self._rows: list[list[str]] = []
        self._start = 0
        self._raw: list[str] = []
        self._lines = 0
        self._read_names: list[str] = []
        self._read_width = 0
        self._note: str | None = None
        columns = options.columns
        if self.rows_wanted == 0:
            self.against = "first record has"
            if isinstance(columns, int):
                self._settle(unique_names([""] * columns), "`columns:` declares")
            elif columns is not None:
                self._settle(list(columns), "`columns:` declares")

    @property
    def settled(self) -> bool:
        """Names and field count are known and no record is held."""
        return self.names is not None and not self.deciding

    @property
    def reading(self) -> bool:
        """The header's rows are being read (the next non-blank record is one of them)."""
        return self.rows_wanted > 0 and self.names is None and not self.deciding

    @property
    def lines_read(self) -> int:
        """The physical lines taken into the header so far (those of its RecordReject)."""
        return self._lines

    def note(self, reason: str) -> None:
        """A finding about a header row being read: the header becomes one RecordReject
        with this reason (unless it is one for another reason), its names still used."""
        self._note = self._note or reason

    def _accept(self) -> None:
        """The header read as it is: its lines are header lines, unless a row was noted."""
        if self._note is not None:
            self._reject(self._note)
        else:
            self.header_lines = self._lines

    def _settle(self, names: list[str], against: str | None = None) -> None:
        self.names, self.expected = names, len(names)
        if against is not None:
            self.against = against

    def ragged_reason(self, found: int) -> str:
        return f"ragged row: {found} fields, {self.against} {self.expected}"

    def take(self, row: list[str], start: int, raw: str, lines: int) -> bool:
        """Offer a non-blank record (``lines`` physical lines, ``raw`` without its line
        end) before the names are known: True if it was part of the header."""
        assert self.names is None
        if self.rows_wanted == 0:  # no header: the first record gives the field count
            self._settle(unique_names([""] * len(row)))
            return False
        if not self._rows:
            self._start = start
        self._rows.append(row)
        self._raw.append(raw)
        self._lines += lines
        if len(self._rows) == self.rows_wanted:
            self._header_read()
        return True

    def _header_read(self) -> None:
        width = max(len(row) for row in self._rows)
        cells = [[row[i] if i < len(row) else "" for row in self._rows] for i in range(width)]
        read = [" ".join(cell for cell in column if cell != "") for column in cells]
        columns, expected = self.options.columns, self.options.expected_columns
        if isinstance(columns, tuple):
            self._settle(list(columns), "`columns:` declares")
            if read != list(columns):
                self._reject(
                    f"header does not match `columns:`: {self._describe(read)} where "
                    f"`columns:` declares {self._describe(list(columns))}; rows read by the "
                    "declared names"
                )
            else:
                self._accept()
            return
        self._read_names, self._read_width = unique_names(read), width
        if expected is not None and width != len(expected):
            self.deciding = True  # names and count once decided
            return
        self._settle(self._read_names)
        self._accept()

    def end(self) -> None:
        """The text ended while the header's rows were read: the rows read so far are
        the header (so that their lines are counted as a header's)."""
        if self.reading and self._rows:
            self._header_read()

    def hold(self, record: HeldRecord) -> list[HeldRecord] | None:
        """Hold a non-blank record while deciding; the held records once decided."""
        self.held.append(record)
        if len(self.held) >= DECIDE_RECORDS:
            return self.decide()
        return None

    def decide(self) -> list[HeldRecord]:
        """Decide on the records held so far (at DECIDE_RECORDS or at the end of the
        text): the header is malformed if most of them have the contract's count."""
        expected = self.options.expected_columns
        assert self.deciding and expected is not None
        fitting = sum(
            1 for record in self.held if record.row is not None and len(record.row) == len(expected)
        )
        if self.held and fitting * 2 > len(self.held):
            self._settle(list(expected), "the contract declares")
            self._reject(
                f"malformed header: {self._read_width} fields where the contract declares "
                f"{len(expected)} columns ({self._shown(expected)}); rows read in the "
                "contract's column order"
            )
        else:
            self._settle(self._read_names, "header has")
            self.expected = self._read_width
            self._accept()
        self.deciding = False
        held, self.held = self.held, []
        return held

    def take_rejects(self) -> list[RecordReject]:
        """The header's reject (if any) to report now; each is handed out once."""
        rejects, self.rejects = self.rejects, []
        return rejects

    def _reject(self, reason: str) -> None:
        self.rejects.append(RecordReject(self._start, "\n".join(self._raw), reason))

    @staticmethod
    def _shown(names: tuple[str, ...] | list[str]) -> str:
        shown = ", ".join(names[:_SHOWN_NAMES])
        return shown + (", ..." if len(names) > _SHOWN_NAMES else "")

    def _describe(self, names: list[str]) -> str:
        return f"{len(names)} fields ({self._shown(names)})"
