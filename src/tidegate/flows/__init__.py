"""Prefect flows and tasks. Importing this package does not import Prefect.

``tidegate.flows.ingest_flow()`` loads the ``ingest`` flow. Pipeline files are read by
:mod:`tidegate.pipelines`, which needs neither Prefect nor this package.
"""

from __future__ import annotations

from typing import Any

from tidegate.engine._progress import emit, subscribe


def ingest_flow() -> Any:
    """The ``ingest`` flow (imports Prefect on first use)."""
    from tidegate.flows._ingest import ingest

    return ingest


__all__ = [
    "emit",
    "ingest_flow",
    "subscribe",
]
