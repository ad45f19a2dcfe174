"""Validation: cast to the contract's types and run its checks, yielding per-row verdicts;
judge a batch by its suite's batch expectations."""

from tidegate.validate._cast import cast_frame
from tidegate.validate._gx_batch import (
    BatchJudgement,
    judge_batch,
    referenced_columns,
    with_row_results,
)
from tidegate.validate._verdicts import ValidatedBatch, validate

__all__ = [
    "BatchJudgement",
    "ValidatedBatch",
    "cast_frame",
    "judge_batch",
    "referenced_columns",
    "validate",
    "with_row_results",
]
