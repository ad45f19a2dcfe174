"""How every physical line of a text file was used: the figures a reader reports.

A CSV reader accounts for each physical line of a file exactly once: inside a record
(a record may span several lines: a quoted field with line breaks), or as a counted
non-record (``skipped``: blank lines, the header, and whatever else the dialect skips).
The engine checks the sum (:func:`tidegate.engine.line_check`) and writes the figures
in the batch's audit entry, so that a record merged into another or lost on the way
can never pass unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineCounts:
    """One file's line figures: ``physical`` lines, ``records`` made (rows and record
    rejects) covering ``record_lines`` lines, and the lines that are no record."""

    physical: int
    records: int
    record_lines: int
    skipped: dict[str, int] = field(default_factory=dict)  # e.g. {"blank": 3, "header": 1}

    @property
    def accounted(self) -> int:
        """The lines the reader says it used: in records, or skipped."""
        return self.record_lines + sum(self.skipped.values())

    def detail(self) -> dict[str, int]:
        """The figures as the audit entry records them (``lines`` in its detail)."""
        return {
            "physical": self.physical,
            "records": self.records,
            "record_lines": self.record_lines,
            **dict(sorted(self.skipped.items())),
        }
