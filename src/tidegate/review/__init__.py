"""Quarantine review: the lifecycle (edit, replay, reject) over the store."""

from tidegate.review._contracts import contract_for, contracts_by_source
from tidegate.review._lifecycle import (
    ReplaySummary,
    edit_record,
    reject_records,
    replay_frame,
    replay_records,
)

__all__ = [
    "ReplaySummary",
    "contract_for",
    "contracts_by_source",
    "edit_record",
    "reject_records",
    "replay_frame",
    "replay_records",
]
