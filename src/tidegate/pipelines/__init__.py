"""Pipeline files: ``pipelines/*.yaml`` say which source feeds which contract, and when.

The model (:class:`PipelineSpec`) and the schedule arithmetic (:class:`ScheduleSpec`)
import neither Prefect nor polars, so ``cli`` and ``doctor`` read configuration
without loading ``flows``; :func:`preflight` loads the contract and builds the source,
importing those packages on first use.
"""

from __future__ import annotations

from tidegate.pipelines._schedule import ConcurrencyConfig, ScheduleSpec
from tidegate.pipelines._spec import (
    ParallelConfig,
    PipelineSpec,
    find_pipeline,
    load_pipeline,
    load_pipelines,
    preflight,
)

__all__ = [
    "ConcurrencyConfig",
    "ParallelConfig",
    "PipelineSpec",
    "ScheduleSpec",
    "find_pipeline",
    "load_pipeline",
    "load_pipelines",
    "preflight",
]
