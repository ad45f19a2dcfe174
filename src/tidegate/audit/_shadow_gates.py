"""``promote_if:`` gates judged against a shadow summary (pure: no store, no file)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from tidegate.audit._shadow import ShadowSummary
from tidegate.pipelines._promote_if import GATE_OPS, Gates

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
}


@dataclass(frozen=True)
class GateResult:
    metric: str
    op: str
    threshold: float
    value: float
    passed: bool

    def describe(self) -> str:
        """``new_failures_ratio 0.0042 < 0.001: fails``."""
        verdict = "passes" if self.passed else "fails"
        return (
            f"{self.metric} {_figure(self.value)} {GATE_OPS[self.op]} "
            f"{_figure(self.threshold)}: {verdict}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figure(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def evaluate_gates(promote_if: Gates, summary: ShadowSummary) -> list[GateResult]:
    """One result per metric and operator, in the order the pipeline file gives them."""
    values = summary.metrics
    return [
        GateResult(metric, op, threshold, values[metric], _COMPARE[op](values[metric], threshold))
        for metric, condition in promote_if.items()
        for op, threshold in condition.items()
    ]
