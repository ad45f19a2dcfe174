"""The one-line text of a batch's shadow result (``detail["shadow"]``), for the run
summary and the flow's artifact. Imports nothing heavy."""

from __future__ import annotations

from typing import Any


def shadow_line(shadow: dict[str, Any]) -> str:
    """One line for a run summary: ``shadow schemas/orders.v4.yaml (v4): +3 would pass,
    −5 would fail (amount.in_range 5); samples: records 12, 40``."""
    rules = ", ".join(f"{r} {n}" for r, n in shadow["newly_failed_by_rule"].items())
    line = (
        f"shadow {shadow['contract']} (v{shadow['version']}): "
        f"+{shadow['newly_passed']} would pass, \u2212{shadow['newly_failed']} would fail"
        + (f" ({rules})" if rules else "")
    )
    samples = shadow["samples"]
    if samples["newly_failed"]:
        line += "; samples: records " + ", ".join(str(r) for r in samples["newly_failed"])
    if samples["newly_passed"]:
        line += "; would pass: records " + ", ".join(str(r) for r in samples["newly_passed"])
    if shadow.get("held"):
        line += f"; would hold the batch: {shadow['held']}"
    return line
