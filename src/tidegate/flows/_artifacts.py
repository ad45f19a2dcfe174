"""Prefect artifacts that summarise a run, so it shows in the Prefect UI."""

from __future__ import annotations

import re

from prefect.artifacts import create_table_artifact

from tidegate._shadow_line import shadow_line
from tidegate.store import BatchOutcome


def artifact_key(source: str) -> str:
    return "tidegate-" + re.sub(r"[^a-z0-9-]", "-", source.lower())


def publish_summary(source: str, outcomes: list[BatchOutcome]) -> None:
    shadowed = any(o.shadow for o in outcomes)  # the pipeline names a shadow: a column
    rows = [
        {
            "file": o.location,
            "event": o.event,
            "rows_in": o.rows_in,
            "loaded": o.loaded,
            "updated": o.updated,
            "quarantined": o.quarantined,
            "duplicates": o.duplicates,
            "top_rules": ", ".join(
                f"{r} ({n})" for r, n in sorted(o.failure_counts.items(), key=lambda kv: -kv[1])[:3]
            ),
            "batch_id": o.batch_id,
            **({"shadow": shadow_line(o.shadow) if o.shadow else ""} if shadowed else {}),
        }
        for o in outcomes
    ]
    create_table_artifact(
        key=artifact_key(source),
        table=rows,
        description=f"tidegate ingest of `{source}`: one row per batch",
    )
