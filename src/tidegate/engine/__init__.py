"""The engine: one Prefect-free unit of work, a raw batch through the stages to a commit.

``sources -> normalize -> validate -> route -> store``: :func:`prepare` runs the stages
(each taking what the one before made), :func:`run_batch` hands the prepared batch to a
commit, :func:`ingest_batch` is an ingest run's batch (prepare, commit, monitor) and
:func:`run_items` a source's run. The ``ingest`` flow, its Dask path, replay and
:class:`Pipeline` all go through here; the flow only wraps the steps in Prefect tasks.
"""

from tidegate.engine._chunked import Committed, Deferred, StagedBatch, publish, stage
from tidegate.engine._lines import line_check
from tidegate.engine._outcome import (
    EXIT_DATA_HELD,
    EXIT_FAILED,
    EXIT_OK,
    RunVerdict,
    verdict,
)
from tidegate.engine._pipeline import Pipeline, RunResult
from tidegate.engine._run import catch_up_monitor, read_or_audit, run_items
from tidegate.engine._shadow_verdict import ShadowVerdict, shadow_frame
from tidegate.engine._skips import skip_committed
from tidegate.engine._stages import (
    ENGINE_STAGES,
    PreparedBatch,
    Stages,
    commit,
    ingest_batch,
    ingest_file,
    observe,
    prepare,
    reject,
    run_batch,
    skip,
)
from tidegate.engine._verdict import Verdict, validate_frame
from tidegate.engine._watermark import committed_watermark, open_declared_source

__all__ = [
    "ENGINE_STAGES",
    "EXIT_DATA_HELD",
    "EXIT_FAILED",
    "EXIT_OK",
    "Committed",
    "Deferred",
    "Pipeline",
    "PreparedBatch",
    "RunResult",
    "RunVerdict",
    "ShadowVerdict",
    "StagedBatch",
    "Stages",
    "Verdict",
    "catch_up_monitor",
    "commit",
    "committed_watermark",
    "ingest_batch",
    "ingest_file",
    "line_check",
    "observe",
    "open_declared_source",
    "prepare",
    "publish",
    "read_or_audit",
    "reject",
    "run_batch",
    "run_items",
    "shadow_frame",
    "skip",
    "skip_committed",
    "stage",
    "validate_frame",
    "verdict",
]
