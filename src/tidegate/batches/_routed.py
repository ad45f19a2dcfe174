"""A routed batch: where every row of one batch goes, ready for the store to write.

Shared by ``route`` (which makes it) and ``store`` (which writes it), so that the
store imports no stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tidegate.batches._duplicates import no_duplicates
from tidegate.batches._quarantine import concat_failures, quarantine_rows
from tidegate.batches._raw import RECORD_COLUMN
from tidegate.errors import ConservationError


def check_conservation(
    source: str, location: str, rows_in: int, loaded: int, quarantined: int, duplicates: int
) -> None:
    """``rows_in = loaded + quarantined + duplicates``, or ConservationError (a bug)."""
    total = loaded + quarantined + duplicates
    if total != rows_in:
        raise ConservationError(
            f"batch {source}:{location}: rows_in={rows_in} but loaded={loaded} + "
            f"quarantined={quarantined} + duplicates={duplicates} = {total}; this is a "
            "tidegate bug, please report it"
        )


@dataclass(frozen=True)
class RoutedBatch:
    """Where every row of one batch goes. The store writes it in one transaction."""

    source: str
    location: str
    content_sha256: str
    contract_version: int
    contract_hash: str
    rows_in: int
    load: pl.DataFrame  # typed contract columns + _tidegate_record
    quarantine: pl.DataFrame  # record, raw, normalized, errors, rules (JSON text)
    duplicates: int
    duplicate_records: tuple[int, ...] = ()  # the first 100, for the audit entry
    # every exact duplicate: record, first_record, key_values, row_hash (DUPLICATE_SCHEMA)
    duplicate_rows: pl.DataFrame = field(default_factory=no_duplicates, repr=False)
    held: str | None = None  # why the whole batch was held, if it was
    normalize_counts: dict[str, int] = field(default_factory=dict)
    failure_counts: dict[str, int] = field(default_factory=dict)
    unknown_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    header_finding: str | None = None  # missing/unknown columns and the fixing rename
    # the suite's validation summary for the audit (details["expectations"]), and the
    # warnings a batch committed anyway carries (a failed batch expectation under warn)
    expectations: dict[str, Any] | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    # what a shadowed candidate contract would have decided (the audit's detail["shadow"])
    shadow: dict[str, Any] | None = None
    # kept so that the store can move a loadable row to quarantine (on_existing_key)
    raw_frame: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)
    normalized_frame: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)

    @property
    def loaded(self) -> int:
        return self.load.height

    @property
    def quarantined(self) -> int:
        return self.quarantine.height

    def check_conservation(self) -> None:
        check_conservation(
            self.source, self.location, self.rows_in, self.loaded, self.quarantined, self.duplicates
        )

    def move_to_quarantine(self, records: list[int], rule: str, message: str) -> RoutedBatch:
        """Return a copy where the loadable rows with these record numbers are quarantined."""
        if not records:
            return self
        wanted = pl.Series(records, dtype=pl.Int64)
        positions = (
            self.raw_frame.select(
                pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
                pl.col(RECORD_COLUMN).cast(pl.Int64).is_in(wanted.implode()).alias("hit"),
            )
            .filter("hit")
            .get_column("_row")
        )
        failures = pl.DataFrame(
            {
                "_row": positions,
                "rule": rule,
                "column": None,
                "value": None,
                "message": message,
            }
        )
        moved = quarantine_rows(self.raw_frame, self.normalized_frame, concat_failures([failures]))
        counts = dict(self.failure_counts)
        counts[rule] = counts.get(rule, 0) + len(records)
        routed = RoutedBatch(
            **{
                **self.__dict__,
                "load": self.load.filter(
                    ~pl.col(RECORD_COLUMN).cast(pl.Int64).is_in(wanted.implode())
                ),
                "quarantine": pl.concat([self.quarantine, moved]),
                "failure_counts": counts,
            }
        )
        routed.check_conservation()
        return routed
