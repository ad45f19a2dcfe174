"""The report's colours, defined once: one colour per meaning, in every chart and table.

A row's fate (loaded, duplicate), a quarantine entry's state now (pending, replayed,
rejected) and a batch's or file's outcome (held, skipped) each have one colour; sources
are told apart by colours that none of those meanings uses.
"""

from __future__ import annotations

MEANING_COLORS: dict[str, str] = {
    "loaded": "#2e9d57",  # green: rows in the target
    "pending": "#d2463c",  # red: quarantined, waiting for review
    "replayed": "#1f6fb2",  # blue: quarantined, fixed and loaded since
    "rejected": "#6d28d9",  # violet: quarantined, rejected by a reviewer
    "held": "#7f1d1d",  # dark red: a whole batch held, nothing of it loaded
    "duplicate": "#e8a93a",  # amber: exact repeats, counted, not loaded
    "skipped": "#9ca3af",  # grey: content committed already
}
MEANING_TEXT: dict[str, str] = {
    "loaded": "loaded",
    "pending": "quarantined, pending",
    "replayed": "quarantined, replayed",
    "rejected": "quarantined, rejected",
    "held": "held batch",
    "duplicate": "duplicate",
    "skipped": "skipped",
}
QUARANTINE_STATES = ("pending", "replayed", "rejected")
SOURCE_COLORS = (
    "#0f766e",
    "#4338ca",
    "#be185d",
    "#0891b2",
    "#854d0e",
    "#475569",
    "#65a30d",
    "#c2410c",
)


def source_colors(sources: list[str]) -> dict[str, str]:
    return {s: SOURCE_COLORS[i % len(SOURCE_COLORS)] for i, s in enumerate(sorted(sources))}
