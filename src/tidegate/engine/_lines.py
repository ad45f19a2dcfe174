"""The line check of a file batch: every physical line of a CSV file accounted for once.

A CSV reader reports, after a complete pass, how it used each physical line
(:class:`tidegate.batches.LineCounts`: inside a record, blank, the header, ...). Two
sums must hold: the lines used are the file's lines, and the records the reader made
are the records the engine received. Either failing is a bug in tidegate (a record
merged into another, or lost between the reader and the store): the batch is held
with the reason, never committed as if nothing happened.
"""

from __future__ import annotations

from tidegate.batches import FileBatch, LineCounts


def line_check(batch: FileBatch, rows_in: int) -> tuple[dict[str, int] | None, str | None]:
    """The batch's line figures for its audit entry (None when its reader counts no
    lines: not a CSV file) and why they do not add up (None when they do); ``rows_in``
    is how many records the engine received from the batch's chunks."""
    counts: LineCounts | None = getattr(batch, "line_counts", None)
    if counts is None:
        return None, None
    return counts.detail(), unaccounted(counts, rows_in, batch.location)


def unaccounted(counts: LineCounts, rows_in: int, location: str) -> str | None:
    """Why ``counts`` do not account for every line and record of ``location``, or None."""
    used = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.skipped.items()))
    figures = (
        f"{counts.physical} physical lines, {counts.records} records in "
        f"{counts.record_lines} lines" + (f", {used}" if used else "")
    )
    if counts.accounted != counts.physical or counts.record_lines < counts.records:
        what = f"its lines do not add up ({figures})"
    elif counts.records != rows_in:
        what = f"the reader made {counts.records} records but the batch received {rows_in}"
    else:
        return None
    return (
        f"tidegate could not account for every line of {location}: {what}; this is a bug "
        "in tidegate, so the batch is held and nothing is loaded; please report it with "
        "the file"
    )
