"""Results of the readiness checks: one row per check and subject, and the grade."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    """One checklist item for one subject (a source, a contract file, the store)."""

    check: str  # stable id: pipeline, contract, store, audit_chain, thresholds, ...
    subject: str  # the source, file or store it is about
    status: Status
    detail: str
    todo: str = ""  # what to do; empty when the item passes

    @property
    def item(self) -> str:
        return f"{self.check}: {self.subject}" if self.subject else self.check


@dataclass(frozen=True)
class DoctorReport:
    project: str
    store: str
    results: list[CheckResult] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        """No item fails (warnings allowed)."""
        return self.count("fail") == 0

    @property
    def grade(self) -> str:
        return (
            f"{self.count('pass')}/{len(self.results)} checks pass, "
            f"{self.count('warn')} warn, {self.count('fail')} fail"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "store": self.store,
            "ok": self.ok,
            "grade": self.grade,
            "passed": self.count("pass"),
            "warned": self.count("warn"),
            "failed": self.count("fail"),
            "total": len(self.results),
            "checks": [{**asdict(r), "item": r.item} for r in self.results],
        }
