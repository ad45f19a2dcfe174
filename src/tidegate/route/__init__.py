"""Routing: split a validated batch into rows to load, quarantine, or count as duplicates."""

from tidegate.batches import QUARANTINE_SCHEMA, RoutedBatch, quarantine_rows, reject_rows
from tidegate.route._chunk import RoutedChunk, route_chunk
from tidegate.route._split import hold_reason, route, with_judgement
from tidegate.rules import DUPLICATE_KEY_RULE, HELD_RULE

__all__ = [
    "DUPLICATE_KEY_RULE",
    "HELD_RULE",
    "QUARANTINE_SCHEMA",
    "RoutedBatch",
    "RoutedChunk",
    "hold_reason",
    "quarantine_rows",
    "reject_rows",
    "route",
    "route_chunk",
    "with_judgement",
]
