"""Quarantine review: the lifecycle (edit, replay, reject) over the store, and what a
candidate contract would do to the pending records (recheck, which writes nothing).

The names are imported on first use (:mod:`tidegate._lazy`): ``quarantine show`` needs
the contracts and the lifecycle's readers, not the replay's engine (polars, pandera)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate._lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "contract_for": "._contracts",
        "contracts_by_source": "._contracts",
        "current_contract": "._contracts",
        "current_values": "._lifecycle",
        "edit_record": "._lifecycle",
        "edit_records": "._lifecycle",
        "raw_by_column": "._lifecycle",
        "RecheckResult": "._recheck",
        "recheck": "._recheck",
        "reject_records": "._lifecycle",
        "replay_frame": "._judge",
        "ReplaySummary": "._replay",
        "replay_records": "._replay",
    },
)

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
