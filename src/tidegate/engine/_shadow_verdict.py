"""``contract.shadow(frame, candidate)``: what a candidate contract would change on a
frame's rows, with no store at all: the same comparison as a shadowed run's audit entry
(:mod:`tidegate.engine._shadow`), next to both verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tidegate.batches import RawBatch
from tidegate.contracts import Contract
from tidegate.engine._prepare import route_batch, shadow_detail
from tidegate.engine._shadow import ShadowCandidate
from tidegate.engine._verdict import Verdict, verdict_of
from tidegate.errors import ContractError


@dataclass(frozen=True)
class ShadowVerdict:
    """The fields of a shadowed batch's ``detail["shadow"]`` (``rows`` judged, the
    candidate's ``passed``/``quarantined``, rows ``newly_passed``/``newly_failed`` by
    rule, ``samples`` of record numbers, ``held``: why the candidate would hold the
    frame), and both verdicts: ``current`` (this contract's) and ``candidate``."""

    contract: str  # the candidate's path ("<memory>" when built in code)
    version: int
    content_hash: str
    rows: int
    passed: int
    quarantined: int
    newly_passed: int
    newly_failed: int
    newly_failed_by_rule: dict[str, int]
    newly_passed_by_rule: dict[str, int]
    samples: dict[str, list[int]]
    held: str | None
    current: Verdict
    candidate: Verdict

    def as_dict(self) -> dict[str, Any]:
        """The comparison as an audit entry keeps it (without the two verdicts)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("current", "candidate")}

    def __repr__(self) -> str:
        held = f", held={self.held!r}" if self.held else ""
        return (
            f"ShadowVerdict(contract={self.contract!r}, version={self.version}, "
            f"rows={self.rows}, newly_passed={self.newly_passed}, "
            f"newly_failed={self.newly_failed}{held})"
        )


def shadow_frame(frame: Any, current: Contract, candidate: Contract) -> ShadowVerdict:
    """``frame``'s rows judged under ``current`` and under ``candidate`` (a contract for
    the same source), compared row by row."""
    if not isinstance(candidate, Contract):
        raise TypeError(f"candidate: expected a tidegate.Contract, got {type(candidate).__name__}")
    if candidate.source != current.source:
        raise ContractError(
            candidate.path,
            "source",
            candidate.source,
            f"a candidate for the same source as the current contract ({current.source!r})",
        )
    raw = RawBatch.from_frame(current.source, frame)
    routed = route_batch(raw, current)
    shadowed, detail = shadow_detail(raw, routed, ShadowCandidate(candidate.path, candidate))
    return ShadowVerdict(
        **detail,  # type: ignore[arg-type]
        current=verdict_of(routed),
        candidate=verdict_of(shadowed),
    )
