"""Quarantine review: the lifecycle (edit, replay, reject) over the store, and what a
candidate contract would do to the pending records (recheck, which writes nothing)."""

from tidegate.review._contracts import contract_for, contracts_by_source, current_contract
from tidegate.review._judge import replay_frame
from tidegate.review._lifecycle import (
    current_values,
    edit_record,
    edit_records,
    raw_by_column,
    reject_records,
)
from tidegate.review._recheck import RecheckResult, recheck
from tidegate.review._replay import ReplaySummary, replay_records

__all__ = [
    "RecheckResult",
    "ReplaySummary",
    "contract_for",
    "contracts_by_source",
    "current_contract",
    "current_values",
    "edit_record",
    "edit_records",
    "raw_by_column",
    "recheck",
    "reject_records",
    "replay_frame",
    "replay_records",
]
