"""Prepare a batch held in memory: normalize -> validate -> route, in one piece."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tidegate.batches import RawBatch, RoutedBatch
from tidegate.contracts import Contract
from tidegate.normalize import normalize
from tidegate.route import route
from tidegate.validate import validate


@dataclass(frozen=True)
class PreparedBatch:
    """A routed batch ready to commit, with how long the stages took and, for an
    incremental source, the window's ``(cursor column, watermark)``."""

    routed: RoutedBatch
    duration_ms: int
    cursor: tuple[str, str] | None = None


def prepare(raw: RawBatch, contract: Contract) -> PreparedBatch:
    """normalize -> validate -> route, each stage taking what the one before made."""
    started = time.perf_counter()
    normalized = normalize(raw.frame, contract)
    validated = validate(normalized.frame, contract)
    routed = route(raw, normalized, validated, contract)
    cursor = (
        (raw.cursor_column, raw.cursor_value) if raw.cursor_column and raw.cursor_value else None
    )
    return PreparedBatch(routed, int((time.perf_counter() - started) * 1000), cursor)
