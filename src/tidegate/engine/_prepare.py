"""Prepare a batch held in memory: normalize -> validate -> route, in one piece."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import polars as pl

from tidegate.batches import RawBatch, RoutedBatch
from tidegate.contracts import Contract
from tidegate.engine._shadow import ShadowCandidate, active_shadow, compare
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


def route_batch(raw: RawBatch, contract: Contract) -> RoutedBatch:
    """normalize -> validate -> route, each stage taking what the one before made."""
    normalized = normalize(raw.frame, contract)
    validated = validate(normalized.frame, contract)
    return route(raw, normalized, validated, contract)


def shadow_detail(
    raw: RawBatch, routed: RoutedBatch, shadow: ShadowCandidate
) -> tuple[RoutedBatch, dict[str, object]]:
    """The batch routed under the candidate (nothing of it is written) and the
    comparison with ``routed``, the current contract's verdict (``detail["shadow"]``)."""
    candidate = route_batch(raw, shadow.contract)
    duplicates = routed.duplicate_rows.get_column("record")
    tally = compare(
        routed.quarantine,
        candidate.quarantine,
        routed.rows_in - routed.duplicates,
        duplicates.cast(pl.Int64),
    )
    return candidate, tally.detail(shadow.name, shadow.contract, candidate.held)


def prepare(raw: RawBatch, contract: Contract) -> PreparedBatch:
    """normalize -> validate -> route; in a shadowed run (:func:`shadowing`) the batch
    is also routed under the candidate and the comparison rides on the routed batch."""
    started = time.perf_counter()
    routed = route_batch(raw, contract)
    shadow = active_shadow()
    if shadow is not None:
        routed = replace(routed, shadow=shadow_detail(raw, routed, shadow)[1])
    cursor = (
        (raw.cursor_column, raw.cursor_value) if raw.cursor_column and raw.cursor_value else None
    )
    return PreparedBatch(routed, int((time.perf_counter() - started) * 1000), cursor)
