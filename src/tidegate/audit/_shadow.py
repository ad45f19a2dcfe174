"""The shadow picture of a source: what its candidate contract would have changed.

Each batch of a pipeline that names ``shadow:`` carries ``detail["shadow"]`` in its
``batch_committed`` / ``batch_held`` audit entry (rows judged, rows that would newly
pass or fail, by rule, sample record ids). :func:`shadow_summary` adds up the last N of
them for the newest candidate (by its content hash); batches shadowed under an older
candidate text are counted as ignored, never mixed in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tidegate.store._audit_log import AuditEntry

if TYPE_CHECKING:
    from tidegate.store import StoreLike

DEFAULT_LAST = 20
MAX_SAMPLES = 10
SAMPLE_KINDS = ("newly_failed", "newly_passed")


@dataclass(frozen=True)
class ShadowSample:
    batch_id: str | None
    record: int


@dataclass(frozen=True)
class ShadowSummary:
    """The sums over the candidate's last batches; ``batches == 0``: no shadow data."""

    source: str
    last: int  # how many batches were asked for
    contract: str = ""  # the candidate as the pipeline names it
    version: int | None = None
    content_hash: str = ""
    batches: int = 0
    ignored_batches: int = 0  # shadowed under an older candidate text
    held_batches: int = 0  # batches the candidate would hold
    rows: int = 0
    passed: int = 0
    quarantined: int = 0
    newly_passed: int = 0
    newly_failed: int = 0
    newly_failed_by_rule: dict[str, int] = field(default_factory=dict)
    newly_passed_by_rule: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[ShadowSample]] = field(default_factory=dict)
    first_at: str | None = None
    last_at: str | None = None

    def _ratio(self, part: int) -> float:
        return part / self.rows if self.rows else 0.0

    @property
    def metrics(self) -> dict[str, float]:
        """The values ``promote_if:`` gates compare (see pipelines._promote_if)."""
        return {
            "new_failures_ratio": self._ratio(self.newly_failed),
            "new_passes_ratio": self._ratio(self.newly_passed),
            "failure_ratio": self._ratio(self.quarantined),
            "held_batches": float(self.held_batches),
            "batches": float(self.batches),
        }

    def rule_rows(self) -> list[tuple[str, int, int]]:
        """``(rule, newly failed, newly passed)``, most newly failed first."""
        failed, passed = self.newly_failed_by_rule, self.newly_passed_by_rule
        names = sorted({*failed, *passed}, key=lambda r: (-failed.get(r, 0), -passed.get(r, 0), r))
        return [(r, failed.get(r, 0), passed.get(r, 0)) for r in names]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "metrics": self.metrics}


def shadow_of(entry: AuditEntry) -> dict[str, Any] | None:
    """The entry's shadow result, if it is a batch entry that carries one."""
    if entry.event not in ("batch_committed", "batch_held"):
        return None
    try:
        shadow = json.loads(entry.detail).get("shadow")
    except (ValueError, AttributeError):
        return None
    return shadow if isinstance(shadow, dict) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _add_rules(total: Counter[str], rules: object) -> None:
    if isinstance(rules, Mapping):
        for rule, n in rules.items():
            total[str(rule)] += _int(n)


def summarize_shadow(
    entries: Iterable[AuditEntry], source: str, last: int = DEFAULT_LAST
) -> ShadowSummary:
    """Add up the shadow results of ``source``'s batch entries (any order) for the newest
    candidate: its ``last`` newest batches; the others' batches are counted as ignored."""
    shadowed = sorted(
        ((e, s) for e in entries if e.source == source and (s := shadow_of(e)) is not None),
        key=lambda pair: pair[0].seq,
        reverse=True,
    )
    if not shadowed:
        return ShadowSummary(source=source, last=last)
    newest = shadowed[0][1]
    candidate = str(newest.get("content_hash", ""))
    mine = [(e, s) for e, s in shadowed if str(s.get("content_hash", "")) == candidate]
    ignored = len(shadowed) - len(mine)
    used = list(reversed(mine[:last]))  # oldest first
    failed_by: Counter[str] = Counter()
    passed_by: Counter[str] = Counter()
    samples: dict[str, list[ShadowSample]] = {kind: [] for kind in SAMPLE_KINDS}
    for entry, s in used:
        _add_rules(failed_by, s.get("newly_failed_by_rule"))
        _add_rules(passed_by, s.get("newly_passed_by_rule"))
        given = s.get("samples") if isinstance(s.get("samples"), Mapping) else {}
        for kind in SAMPLE_KINDS:
            for record in given.get(kind) or []:
                if len(samples[kind]) < MAX_SAMPLES and isinstance(record, int):
                    samples[kind].append(ShadowSample(entry.batch_id, record))
    version = newest.get("version")
    return ShadowSummary(
        source=source,
        last=last,
        contract=str(newest.get("contract", "")),
        version=version if isinstance(version, int) else None,
        content_hash=candidate,
        batches=len(used),
        ignored_batches=ignored,
        held_batches=sum(1 for _, s in used if s.get("held")),
        rows=sum(_int(s.get("rows")) for _, s in used),
        passed=sum(_int(s.get("passed")) for _, s in used),
        quarantined=sum(_int(s.get("quarantined")) for _, s in used),
        newly_passed=sum(_int(s.get("newly_passed")) for _, s in used),
        newly_failed=sum(_int(s.get("newly_failed")) for _, s in used),
        newly_failed_by_rule=dict(failed_by.most_common()),
        newly_passed_by_rule=dict(passed_by.most_common()),
        samples=samples,
        first_at=used[0][0].at,
        last_at=used[-1][0].at,
    )


def shadow_summary(store: StoreLike, source: str, last: int = DEFAULT_LAST) -> ShadowSummary:
    """:func:`summarize_shadow` over the store's audit, read-only (nothing is created)."""
    from tidegate.store import open_store
    from tidegate.store._audit_reads import has_audit
    from tidegate.store._connect import connect
    from tidegate.store._shadow_reads import shadowed_batch_entries

    entries: list[AuditEntry] = []
    if open_store(store).exists():
        with connect(store, read_only=True) as con:
            entries = shadowed_batch_entries(con, source) if has_audit(con) else []
    return summarize_shadow(entries, source, last)
