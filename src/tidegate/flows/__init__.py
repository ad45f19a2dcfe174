"""Prefect flows and tasks. Importing this package does not import Prefect.

``from tidegate.flows.ingest import ingest`` (or ``tidegate.flows.ingest_flow()``)
loads the flow; pipeline files load without Prefect.
"""

from __future__ import annotations

from typing import Any

from tidegate.flows._pipelines import (
    Pipeline,
    find_pipeline,
    load_pipeline,
    load_pipelines,
    preflight,
)
from tidegate.flows._progress import emit, subscribe


def ingest_flow() -> Any:
    """The ``ingest`` flow (imports Prefect on first use)."""
    from tidegate.flows._ingest import ingest

    return ingest


__all__ = [
    "Pipeline",
    "emit",
    "find_pipeline",
    "ingest_flow",
    "load_pipeline",
    "load_pipelines",
    "preflight",
    "subscribe",
]
