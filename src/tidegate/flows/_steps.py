"""The stages wired for one batch, as plain functions (the flow wraps them in tasks)."""

from __future__ import annotations

from tidegate.contracts import Contract
from tidegate.normalize import NormalizedBatch, normalize
from tidegate.route import RoutedBatch, route
from tidegate.sources import RawBatch
from tidegate.validate import ValidatedBatch, validate


def route_batch(
    raw: RawBatch, normalized: NormalizedBatch, validated: ValidatedBatch, contract: Contract
) -> RoutedBatch:
    return route(
        raw,
        normalized.frame,
        validated.typed,
        validated.failures,
        contract,
        normalize_counts=normalized.rule_counts,
        unknown_columns=normalized.unknown_columns,
        missing_columns=normalized.missing_columns,
        header_map=normalized.header_map,
    )


def process(raw: RawBatch, contract: Contract) -> RoutedBatch:
    """sources -> normalize -> validate -> route, for one raw batch (no store, no Prefect)."""
    normalized = normalize(raw.frame, contract)
    return route_batch(raw, normalized, validate(normalized.frame, contract), contract)
