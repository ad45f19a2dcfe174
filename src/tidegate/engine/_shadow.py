"""Shadow: what a candidate contract would have decided, row by row, next to the current.

A pipeline that names ``shadow: PATH`` runs each batch under its contract as always and
also routes it under the candidate, loading and quarantining nothing under it. The two
verdicts are compared by record (``_tidegate_record``): a row that fails under the
current contract and passes under the candidate *newly passes* (counted by the current
rules it failed), a row that passes now and fails under the candidate *newly fails*
(counted by the candidate rules it fails). The whole-batch hold is not a row's verdict:
a row that only carries ``_batch.held`` counts as passing on that side, and whether the
candidate would hold the batch is ``held``. Exact duplicates under the current contract
are not judged (``rows = rows_in - duplicates``).

:func:`compare` makes the additive :class:`ShadowTally` of one batch, or of one chunk of
a streamed file (tallies add up chunk by chunk); :meth:`ShadowTally.detail` makes the
audit entry's ``detail["shadow"]``. The engine's runs and ``Contract.shadow`` both use
:func:`compare`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tidegate.contracts import Contract
from tidegate.rules import HELD_RULE

SAMPLES = 5  # record ids kept per direction


@dataclass(frozen=True)
class ShadowCandidate:
    """The candidate contract a run shadows, and its path as the pipeline names it."""

    name: str
    contract: Contract


_ACTIVE: ContextVar[ShadowCandidate | None] = ContextVar("tidegate_shadow", default=None)


@contextmanager
def shadowing(candidate: ShadowCandidate | None) -> Iterator[None]:
    """Shadow every batch prepared or staged inside this block under ``candidate``
    (None: no shadow, and no work at all)."""
    token = _ACTIVE.set(candidate)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_shadow() -> ShadowCandidate | None:
    """The candidate of the run in progress (:func:`shadowing`), or None."""
    return _ACTIVE.get()


def _merge(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    merged = dict(a)
    for rule, n in b.items():
        merged[rule] = merged.get(rule, 0) + n
    return dict(sorted(merged.items()))


@dataclass(frozen=True)
class ShadowTally:
    """The row-by-row comparison of one batch (or chunk): additive with ``+``."""

    judged: int = 0  # rows compared (not exact duplicates under the current contract)
    quarantined: int = 0  # of those, failing under the candidate
    newly_passed: int = 0
    newly_failed: int = 0
    newly_failed_by_rule: dict[str, int] = field(default_factory=dict)
    newly_passed_by_rule: dict[str, int] = field(default_factory=dict)
    failed_samples: tuple[int, ...] = ()
    passed_samples: tuple[int, ...] = ()

    def __add__(self, other: ShadowTally) -> ShadowTally:
        return ShadowTally(
            judged=self.judged + other.judged,
            quarantined=self.quarantined + other.quarantined,
            newly_passed=self.newly_passed + other.newly_passed,
            newly_failed=self.newly_failed + other.newly_failed,
            newly_failed_by_rule=_merge(self.newly_failed_by_rule, other.newly_failed_by_rule),
            newly_passed_by_rule=_merge(self.newly_passed_by_rule, other.newly_passed_by_rule),
            failed_samples=tuple(sorted(self.failed_samples + other.failed_samples))[:SAMPLES],
            passed_samples=tuple(sorted(self.passed_samples + other.passed_samples))[:SAMPLES],
        )

    def detail(self, name: str, candidate: Contract, held: str | None) -> dict[str, Any]:
        """The audit entry's ``detail["shadow"]`` (issue 15, interface 1)."""
        return {
            "contract": name,
            "version": candidate.version,
            "content_hash": candidate.content_hash,
            "rows": self.judged,
            "passed": self.judged - self.quarantined,
            "quarantined": self.quarantined,
            "newly_passed": self.newly_passed,
            "newly_failed": self.newly_failed,
            "newly_failed_by_rule": dict(self.newly_failed_by_rule),
            "newly_passed_by_rule": dict(self.newly_passed_by_rule),
            "samples": {
                "newly_failed": list(self.failed_samples),
                "newly_passed": list(self.passed_samples),
            },
            "held": held,
        }


def _failing(quarantine: pl.DataFrame, excluded: pl.Series) -> pl.DataFrame:
    """``record`` and its rules (a list, ``_batch.held`` left out) of each failing row."""
    return (
        quarantine.lazy()
        .filter(pl.col("record").is_not_null())
        .select(
            pl.col("record").cast(pl.Int64),
            pl.col("rules")
            .str.split(",")
            .list.eval(pl.element().filter(pl.element() != HELD_RULE)),
        )
        .filter(pl.col("rules").list.len() > 0)
        .filter(~pl.col("record").is_in(excluded.cast(pl.Int64).implode()))
        .collect()
    )


def _by_rule(rows: pl.DataFrame, column: str) -> dict[str, int]:
    counts = rows.select(pl.col(column).list.unique()).explode(column).group_by(column).len()
    return {str(rule): int(n) for rule, n in counts.sort(column).iter_rows()}


def _samples(rows: pl.DataFrame) -> tuple[int, ...]:
    return tuple(int(r) for r in rows.get_column("record").sort().head(SAMPLES))


def compare(
    current: pl.DataFrame,
    candidate: pl.DataFrame,
    rows: int,
    duplicates: pl.Series | None = None,
) -> ShadowTally:
    """Compare two quarantines of the same rows (``record`` and comma-separated
    ``rules`` columns, as routing makes them): ``current``'s and ``candidate``'s, over
    ``rows`` judged rows; ``duplicates`` are the records the current contract counted
    as exact duplicates (not judged)."""
    excluded = duplicates if duplicates is not None else pl.Series([], dtype=pl.Int64)
    now = _failing(current, excluded)
    then = _failing(candidate, excluded).rename({"rules": "candidate_rules"})
    both = now.join(then, on="record", how="full", coalesce=True)
    newly_failed = both.filter(pl.col("rules").is_null())
    newly_passed = both.filter(pl.col("candidate_rules").is_null())
    return ShadowTally(
        judged=rows,
        quarantined=then.height,
        newly_passed=newly_passed.height,
        newly_failed=newly_failed.height,
        newly_failed_by_rule=_by_rule(newly_failed, "candidate_rules"),
        newly_passed_by_rule=_by_rule(newly_passed, "rules"),
        failed_samples=_samples(newly_failed),
        passed_samples=_samples(newly_passed),
    )
