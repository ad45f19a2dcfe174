"""Whether a pipeline's ``promote_if:`` gates pass now, on its candidate's shadow figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.audit._shadow import DEFAULT_LAST, summarize_shadow
from tidegate.audit._shadow_gates import evaluate_gates
from tidegate.doctor._model import CheckResult
from tidegate.errors import PipelineError
from tidegate.pipelines._promote_if import parse_promote_if

if TYPE_CHECKING:
    from tidegate.doctor._project import PipelineFile
    from tidegate.store import AuditEntry


def promote_gates_check(f: PipelineFile, entries: list[AuditEntry] | None) -> CheckResult | None:
    """For a pipeline with ``shadow:`` and ``promote_if:``: pass when every gate passes
    on the newest batches, warn with the figures otherwise (or with no shadow data yet);
    None for any other pipeline. A bad promote_if is the pipeline check's to report."""
    shadow, gates_raw = f.raw.get("shadow"), f.raw.get("promote_if")
    if f.error or shadow is None or gates_raw is None:
        return None
    try:
        gates = parse_promote_if(f.path, gates_raw, shadow)
    except PipelineError:
        return None
    if gates is None:
        return None
    if entries is None:
        return CheckResult(
            "promote gates",
            f.name,
            "warn",
            "unknown: the store cannot be read",
            "see the store check",
        )
    summary = summarize_shadow(entries, f.name, DEFAULT_LAST)
    if not summary.batches:
        return CheckResult(
            "promote gates",
            f.name,
            "warn",
            f"no shadow data yet for {shadow}",
            f"run `tidegate run {f.name}`; each batch is also judged under the candidate",
        )
    results = evaluate_gates(gates, summary)
    failing = [g for g in results if not g.passed]
    figures = f"over {summary.batches} batches of {summary.contract}"
    if not failing:
        passed = "; ".join(g.describe() for g in results)
        return CheckResult(
            "promote gates", f.name, "pass", f"every gate passes {figures}: {passed}"
        )
    return CheckResult(
        "promote gates",
        f.name,
        "warn",
        f"{len(failing)} of {len(results)} gates fail {figures}: "
        + "; ".join(g.describe() for g in failing),
        f"not promotable yet: see `tidegate schema shadow-report {f.name}`",
    )
