"""The ``promote_if:`` key of a pipeline file: thresholds on the shadow result.

``promote_if: {new_failures_ratio: {lt: 0.001}, batches: {ge: 5}}`` says what the
candidate contract (``shadow:``) must show over its recent batches before
``tidegate schema promote`` makes it current; ``tidegate doctor`` checks the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.errors import PipelineError

if TYPE_CHECKING:
    from tidegate.pipelines._spec import PipelineSpec

# metric -> what it measures, over the batches the candidate shadowed
GATE_METRICS = {
    "new_failures_ratio": "rows that would newly fail / rows judged",
    "new_passes_ratio": "rows that would newly pass / rows judged",
    "failure_ratio": "rows the candidate would quarantine / rows judged",
    "held_batches": "batches the candidate would hold",
    "batches": "batches with a shadow result",
}
GATE_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "=="}

Gates = dict[str, dict[str, float]]  # metric -> {op: threshold}

_EXAMPLE = "e.g. {new_failures_ratio: {lt: 0.001}, batches: {ge: 5}}"


def parse_promote_if(path: Path, value: object, shadow: object) -> Gates | None:
    """Validate ``promote_if:`` (``None`` when absent); it needs ``shadow:`` beside it."""
    if value is None:
        return None
    if shadow is None:
        raise PipelineError(
            f"{path}: promote_if: gates judge a shadow result, but the file names no "
            "candidate; add `shadow: schemas/<candidate>.yaml` or remove promote_if"
        )
    if not isinstance(value, dict) or not value:
        raise PipelineError(
            f"{path}: promote_if: {value!r} is not valid; expected a mapping of metric to "
            f"{{op: number}}, {_EXAMPLE}"
        )
    gates: Gates = {}
    for metric, condition in value.items():
        if metric not in GATE_METRICS:
            raise PipelineError(
                f"{path}: promote_if.{metric}: unknown metric; expected one of "
                f"{', '.join(GATE_METRICS)}"
            )
        if not isinstance(condition, dict) or not condition:
            raise PipelineError(
                f"{path}: promote_if.{metric}: {condition!r} is not valid; expected "
                "{op: number} with op one of " + ", ".join(GATE_OPS) + f", {_EXAMPLE}"
            )
        gates[metric] = {}
        for op, threshold in condition.items():
            if op not in GATE_OPS:
                raise PipelineError(
                    f"{path}: promote_if.{metric}.{op}: unknown operator; expected one of "
                    f"{', '.join(GATE_OPS)}"
                )
            if isinstance(threshold, bool) or not isinstance(threshold, int | float):
                raise PipelineError(
                    f"{path}: promote_if.{metric}.{op}: {threshold!r} is not a number; "
                    f"give a threshold such as {op}: 0.001"
                )
            gates[metric][op] = float(threshold)
    return gates


def shadow_name_of(pipeline: PipelineSpec) -> str | None:
    """The candidate contract as the pipeline names it in ``shadow:``, or None."""
    return pipeline.shadow


def shadow_path_of(pipeline: PipelineSpec) -> Path | None:
    """The candidate contract of ``shadow:``, resolved under the pipeline's project."""
    name = shadow_name_of(pipeline)
    return None if name is None else pipeline.project_dir / name
