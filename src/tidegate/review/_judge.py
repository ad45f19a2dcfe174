"""How a replay judges quarantined records: the one path that replay and recheck share.

The records' current content (the edit if a reviewer made one, else the raw record)
goes through the engine's stages (normalize, validate, route) as one raw batch, each
record on its own: no batch-level hold, no batch expectations. :func:`replay_verdicts`
reads the routed batch as replay does: a record that fails, or repeats a key of another
record in the same replay, stays pending with those rules. Replay writes what this
finds (:mod:`tidegate.review._replay`); recheck only counts it
(:mod:`tidegate.review._recheck`), so what recheck says is what replay will do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import polars as pl

from tidegate.batches import RECORD_COLUMN, RawBatch, RoutedBatch
from tidegate.contracts import Contract
from tidegate.engine import PreparedBatch, run_batch
from tidegate.review._lifecycle import HeaderMaps, header_map
from tidegate.rules import DUPLICATE_KEY_RULE
from tidegate.store._review_records import Reviewable

T = TypeVar("T")
REPLAY_CHUNK = 20000  # records a replay judges (and commits) together


def replay_frame(records: Sequence[Reviewable], contract: Contract) -> pl.DataFrame:
    """The records as a raw frame under the contract's column names, edits applied.

    The record number column holds the quarantine id, to join the verdicts back. The
    records are grouped by their raw headers (a page mostly shares its file's), each
    group's headers matched once and its values taken a column at a time; a reviewer's
    edit then replaces its columns' values (what :func:`current_values` gives each).
    """
    header_maps: HeaderMaps = {}
    n = len(records)
    columns: dict[str, list[str | None]] = {c: [None] * n for c in contract.column_names}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(tuple(r.raw), []).append(i)
    for positions in groups.values():
        first = records[positions[0]].raw
        for header, column in header_map(first, contract, header_maps):
            cells = columns[column]
            for i in positions:
                value = records[i].raw[header]
                cells[i] = value if value is None or type(value) is str else str(value)
    for i, r in enumerate(records):
        for column, value in r.edited.items():
            if column in columns:
                columns[column][i] = None if value is None else str(value)
    frame = pl.DataFrame(columns, schema={c: pl.String for c in contract.column_names})
    return frame.with_columns(pl.Series(RECORD_COLUMN, [r.id for r in records], dtype=pl.Int64))


def replay_contract(contract: Contract) -> Contract:
    """The contract as a replay judges with: every record on its own (quarantine, never a
    hold), and of a suite only its row expectations."""
    suite = contract.expectations
    return dataclasses.replace(
        contract,
        policy=dataclasses.replace(
            contract.policy, on_row_failure="quarantine", max_quarantine_ratio=1.0
        ),
        expectations=(
            dataclasses.replace(suite, expectations=suite.row_expectations) if suite else None
        ),
    )


def judge_records(
    records: Sequence[Reviewable], contract: Contract, write: Callable[[PreparedBatch], T]
) -> T:
    """The records (no file-level entries) through the engine's stages as a replay judges
    them, the prepared batch handed to ``write``."""
    judged = replay_contract(contract)
    frame = replay_frame(records, judged)
    raw = RawBatch(source=contract.source, location="replay", content_sha256="replay", frame=frame)
    return run_batch(raw, judged, write)


def replay_verdicts(routed: RoutedBatch) -> dict[int, dict[str, Any]]:
    """Quarantine id -> the verdict of each record that stays pending (``errors``,
    ``rules`` and ``normalized`` as the quarantine stores them); the same key twice in one
    replay keeps the second pending."""
    verdicts = {int(q["record"]): q for q in routed.quarantine.iter_rows(named=True)}
    for dup in routed.duplicate_rows["record"].to_list():
        verdicts[dup] = {
            "errors": json.dumps(
                [
                    {
                        "rule": DUPLICATE_KEY_RULE,
                        "column": None,
                        "value": None,
                        "message": "same key as another record in this replay",
                    }
                ]
            ),
            "rules": DUPLICATE_KEY_RULE,
            "normalized": None,
        }
    return verdicts
