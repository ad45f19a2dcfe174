"""``contract.validate(frame)``: the verdict on a frame's rows, with no store at all.

The same stages as an ingest run (normalize, validate, route, with the contract's
whole-batch rules: duplicate keys, ``unique``, ``max_quarantine_ratio``), stopping
short of the commit. Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, RawBatch, RoutedBatch
from tidegate.contracts import Contract
from tidegate.engine._prepare import route_batch


@dataclass(frozen=True)
class Verdict:
    """What a contract says of a frame's rows. The counts add up:
    ``rows_in == passed + quarantined + duplicates``.

    - ``valid``: the rows that pass, typed as the contract declares, in input order;
    - ``quarantine``: one row per failing record: ``record`` (its 1-based row number),
      ``raw`` and ``normalized`` (JSON text), ``errors`` (a JSON list of
      ``{rule, column, value, message}``), ``rules`` (comma-separated rule ids);
    - ``duplicates``: rows that repeat an earlier row exactly, on the primary key;
    - ``held``: why the whole frame would be held (nothing loaded), else None;
    - ``expectations``: the contract's GX suite results (what the audit entry would
      keep as ``details.expectations``), else None; ``warnings``: failed batch
      expectations under ``on_batch_failure: warn``.
    """

    valid: pl.DataFrame
    quarantine: pl.DataFrame
    rows_in: int
    duplicates: int = 0
    held: str | None = None
    failure_counts: dict[str, int] = field(default_factory=dict)
    normalize_counts: dict[str, int] = field(default_factory=dict)
    unknown_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    expectations: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> int:
        return self.valid.height

    @property
    def quarantined(self) -> int:
        return self.quarantine.height

    @property
    def ok(self) -> bool:
        """Every row passed (none quarantined, nothing held)."""
        return self.held is None and not self.quarantined

    def __repr__(self) -> str:
        held = f", held={self.held!r}" if self.held else ""
        return (
            f"Verdict(rows_in={self.rows_in}, passed={self.passed}, "
            f"quarantined={self.quarantined}, duplicates={self.duplicates}{held})"
        )


def validate_frame(frame: Any, contract: Contract) -> Verdict:
    """The contract's verdict on ``frame`` (a polars DataFrame or LazyFrame, or anything
    ``polars.DataFrame()`` takes). Values are judged as their text form, exactly as if
    the rows had been read from a file: normalization first, then the checks."""
    raw = RawBatch.from_frame(contract.source, frame)
    return verdict_of(route_batch(raw, contract))


def verdict_of(routed: RoutedBatch) -> Verdict:
    """The Verdict of a batch routed in memory."""
    return Verdict(
        valid=routed.load.drop(RECORD_COLUMN),
        quarantine=routed.quarantine,
        rows_in=routed.rows_in,
        duplicates=routed.duplicates,
        held=routed.held,
        failure_counts=dict(routed.failure_counts),
        normalize_counts=dict(routed.normalize_counts),
        unknown_columns=routed.unknown_columns,
        missing_columns=routed.missing_columns,
        expectations=routed.expectations,
        warnings=routed.warnings,
    )
