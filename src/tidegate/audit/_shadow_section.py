"""The report's "Shadow" section: per source with shadow data, its candidate's picture."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tidegate.audit._shadow import DEFAULT_LAST, ShadowSummary, shadow_of, summarize_shadow
from tidegate.audit._shadow_gates import GateResult, evaluate_gates

if TYPE_CHECKING:
    from tidegate.pipelines._promote_if import Gates
    from tidegate.store import AuditEntry


@dataclass(frozen=True)
class ShadowSection:
    summary: ShadowSummary
    gates: list[GateResult] | None  # None: the source's pipeline has no promote_if

    @property
    def rules(self) -> list[tuple[str, int, int]]:
        return self.summary.rule_rows()

    def line(self) -> str:
        """One line for the terminal: the candidate, the batches, the ratios, the gates."""
        s, m = self.summary, self.summary.metrics
        gates = ""
        if self.gates is not None:
            failing = sum(1 for g in self.gates if not g.passed)
            gates = f", gates: {failing} of {len(self.gates)} fail" if failing else ", gates pass"
        return (
            f"{s.source}: candidate {s.contract} over {s.batches} batches, newly failed "
            f"{m['new_failures_ratio']:.2%}, newly passed {m['new_passes_ratio']:.2%}{gates}"
        )


def shadow_sections(
    entries: Iterable[AuditEntry], source: str | None, promote_if: dict[str, Gates]
) -> list[ShadowSection]:
    """One section per source (or only ``source``) whose batches carry shadow results."""
    listed = list(entries)
    sources = sorted({e.source for e in listed if e.source and shadow_of(e) is not None} - {None})
    out = []
    for name in sources:
        if source not in (None, name):
            continue
        summary = summarize_shadow(listed, name, DEFAULT_LAST)
        gates = promote_if.get(name)
        out.append(
            ShadowSection(summary, None if gates is None else evaluate_gates(gates, summary))
        )
    return out
