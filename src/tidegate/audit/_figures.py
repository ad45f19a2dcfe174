"""Figures for run reports, computed from audit entries (pure functions, no I/O).

Every number of the batch history comes from the ``detail`` of an audit entry, so
a report says exactly what the audit trail says; the quarantine's state now (pending,
replayed, rejected) comes from the quarantine table's counts, passed in. Batch events
(``batch_committed``, ``batch_held``, ``batch_reprocessed``) carry the row counts;
skips and file rejections are counted per source but carry no rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tidegate.store import AuditEntry

BATCH_EVENTS = ("batch_committed", "batch_held", "batch_reprocessed")
RUN_EVENTS = (*BATCH_EVENTS, "batch_skipped", "file_rejected")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or timestamp as an aware UTC datetime (naive means UTC).

    Raises ValueError naming the text when it is not ISO 8601.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date or time; expected e.g. 2024-05-01 "
            "or 2024-05-01T08:00:00Z"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class BatchRun:
    """One batch as its audit entry records it."""

    seq: int
    at: datetime
    source: str
    batch_id: str
    event: str
    location: str
    rows_in: int
    loaded: int
    updated: int
    quarantined: int
    duplicates: int
    duration_ms: int | None
    contract_version: int | None
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def quarantine_ratio(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def held(self) -> bool:
        return self.event == "batch_held"


@dataclass(frozen=True)
class RuleCount:
    source: str
    rule: str
    rows: int


@dataclass(frozen=True)
class RatioPoint:
    at: datetime
    ratio: float
    batch_id: str


@dataclass(frozen=True)
class SourceSummary:
    source: str
    batches: int = 0
    held: int = 0
    skipped: int = 0
    files_rejected: int = 0
    rows_in: int = 0
    loaded: int = 0
    updated: int = 0
    quarantined: int = 0
    duplicates: int = 0
    contract_version: int | None = None
    last_at: datetime | None = None
    last_event: str | None = None
    mean_duration_ms: float | None = None

    @property
    def quarantine_ratio(self) -> float:
        return self.quarantined / self.rows_in if self.rows_in else 0.0


@dataclass(frozen=True)
class QuarantineState:
    """Quarantine entries as they are now, after review."""

    pending: int = 0
    replayed: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.replayed + self.rejected

    def add(self, status: str, n: int) -> QuarantineState:
        if status not in ("pending", "replayed", "rejected"):
            return self
        return QuarantineState(**{**self.__dict__, status: getattr(self, status) + n})

    def describe(self) -> str:
        """``0 pending (978 replayed, 179 rejected)``."""
        resolved = [
            f"{n} {s}" for s, n in (("replayed", self.replayed), ("rejected", self.rejected)) if n
        ]
        return f"{self.pending} pending" + (f" ({', '.join(resolved)})" if resolved else "")


def quarantine_states(
    counts: Iterable[tuple[str, str, str, int]],
) -> tuple[dict[str, QuarantineState], dict[str, QuarantineState]]:
    """(per source, per batch id) states from ``(source, batch_id, status, n)`` counts."""
    by_source: dict[str, QuarantineState] = {}
    by_batch: dict[str, QuarantineState] = {}
    for source, batch_id, status, n in counts:
        by_source[source] = by_source.get(source, QuarantineState()).add(status, n)
        by_batch[batch_id] = by_batch.get(batch_id, QuarantineState()).add(status, n)
    return dict(sorted(by_source.items())), by_batch


@dataclass(frozen=True)
class Figures:
    """Everything a report shows, for one window of the audit trail."""

    runs: list[BatchRun]
    ratio_by_source: dict[str, list[RatioPoint]]
    top_rules: list[RuleCount]
    summaries: list[SourceSummary]
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # the quarantine now (read from its table, not the history): per source, per batch
    quarantine_now: dict[str, QuarantineState] = field(default_factory=dict)
    quarantine_by_batch: dict[str, QuarantineState] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return [s.source for s in self.summaries]

    def batch_state(self, batch_id: str) -> QuarantineState:
        return self.quarantine_by_batch.get(batch_id, QuarantineState())

    def source_state(self, source: str) -> QuarantineState:
        return self.quarantine_now.get(source, QuarantineState())


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def entry_time(entry: AuditEntry) -> datetime:
    return parse_time(entry.at)


def select_entries(
    entries: Iterable[AuditEntry],
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Entries of one source (or all) with ``since <= at < until``, in seq order."""
    out = []
    for e in entries:
        if source is not None and e.source != source:
            continue
        at = entry_time(e)
        if (since is not None and at < since) or (until is not None and at >= until):
            continue
        out.append(e)
    return sorted(out, key=lambda e: e.seq)


def batch_run(entry: AuditEntry) -> BatchRun:
    """The counts of one batch event (``batch_committed``/``held``/``reprocessed``)."""
    d: dict[str, Any] = json.loads(entry.detail)
    contract = d.get("contract") if isinstance(d.get("contract"), dict) else {}
    failures = d.get("failures") if isinstance(d.get("failures"), dict) else {}
    duration = d.get("duration_ms")
    return BatchRun(
        seq=entry.seq,
        at=entry_time(entry),
        source=entry.source or "",
        batch_id=entry.batch_id or "",
        event=entry.event,
        location=str(d.get("location", "")),
        rows_in=_int(d.get("rows_in")),
        loaded=_int(d.get("loaded")),
        updated=_int(d.get("updated")),
        quarantined=_int(d.get("quarantined")),
        duplicates=_int(d.get("duplicates")),
        duration_ms=_int(duration) if duration is not None else None,
        contract_version=(contract or {}).get("version"),
        failures={str(k): _int(v) for k, v in (failures or {}).items()},
    )


def batch_runs(entries: Iterable[AuditEntry]) -> list[BatchRun]:
    return [batch_run(e) for e in entries if e.event in BATCH_EVENTS]


def ratio_by_source(runs: Iterable[BatchRun]) -> dict[str, list[RatioPoint]]:
    """Quarantine ratio (quarantined / rows in) of each batch, per source, over time."""
    out: dict[str, list[RatioPoint]] = {}
    for r in runs:
        if r.rows_in:
            out.setdefault(r.source, []).append(RatioPoint(r.at, r.quarantine_ratio, r.batch_id))
    return {s: sorted(points, key=lambda p: p.at) for s, points in sorted(out.items())}


def top_failing_rules(runs: Iterable[BatchRun], limit: int = 10) -> list[RuleCount]:
    """Rules by failing rows, summed over batches; ties broken by source then rule."""
    totals: Counter[tuple[str, str]] = Counter()
    for r in runs:
        for rule, rows in r.failures.items():
            totals[(r.source, rule)] += rows
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [RuleCount(source, rule, rows) for (source, rule), rows in ranked[:limit] if rows]


def source_summaries(entries: Iterable[AuditEntry]) -> list[SourceSummary]:
    """Per source: batches, held, skipped, rejected files, row totals, last event."""
    acc: dict[str, dict[str, Any]] = {}
    durations: dict[str, list[int]] = {}
    for e in entries:
        if e.event not in RUN_EVENTS or not e.source:
            continue
        s = acc.setdefault(e.source, Counter())
        s["last_at"], s["last_event"] = entry_time(e), e.event
        if e.event == "batch_skipped":
            s["skipped"] += 1
        elif e.event == "file_rejected":
            s["files_rejected"] += 1
        else:
            r = batch_run(e)
            s["batches"] += 1
            s["held"] += int(r.held)
            for key in ("rows_in", "loaded", "updated", "quarantined", "duplicates"):
                s[key] += getattr(r, key)
            s["contract_version"] = r.contract_version
            if r.duration_ms is not None:
                durations.setdefault(e.source, []).append(r.duration_ms)
    out = []
    for source in sorted(acc):
        ds = durations.get(source)
        out.append(
            SourceSummary(
                source=source,
                mean_duration_ms=sum(ds) / len(ds) if ds else None,
                **dict(acc[source]),
            )
        )
    return out


def compute_figures(
    entries: Iterable[AuditEntry],
    *,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = 10,
    quarantine_counts: Iterable[tuple[str, str, str, int]] = (),
) -> Figures:
    """All report figures for the entries of one source (or all) in ``[since, until)``;
    ``quarantine_counts`` are the quarantine table's ``(source, batch_id, status, n)``
    now (the state beside the history is for the whole source, not the window)."""
    chosen = select_entries(entries, source=source, since=since, until=until)
    runs = batch_runs(chosen)
    by_source, by_batch = quarantine_states(
        c for c in quarantine_counts if source is None or c[0] == source
    )
    return Figures(
        quarantine_now=by_source,
        quarantine_by_batch=by_batch,
        runs=runs,
        ratio_by_source=ratio_by_source(runs),
        top_rules=top_failing_rules(runs, top),
        summaries=source_summaries(chosen),
        source=source,
        since=since,
        until=until,
    )
