"""Replay: re-normalize and re-validate quarantined records under the current contract.

A record that now passes loads into the target table exactly once, in one
transaction with its status change and its audit entry; one that still fails
stays pending with its new reasons. Replaying twice never loads twice: the
status and version of each record are claimed in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, RoutedBatch
from tidegate.contracts import Contract
from tidegate.errors import ReviewConflictError, ReviewError
from tidegate.review._contracts import contract_for
from tidegate.review._gc_pause import collector_paused
from tidegate.review._judge import REPLAY_CHUNK, judge_records, replay_verdicts
from tidegate.review._lifecycle import pii_columns, require_records
from tidegate.rules import UNREADABLE_FILE_RULE as FILE_RULE
from tidegate.store import default_actor, transaction
from tidegate.store._audit_log import append_audit_many
from tidegate.store._connect import kept_open
from tidegate.store._pii_seal import PiiSealer
from tidegate.store._review_audit import review_entries
from tidegate.store._review_records import ReviewRecord
from tidegate.store._review_writes import claim_versions
from tidegate.store._row_writes import apply_existing_keys, insert_target_rows
from tidegate.store._tables import LINEAGE_BATCH, ensure_store_tables, ensure_target_table

if TYPE_CHECKING:
    from tidegate.store import Store


@dataclass
class ReplaySummary:
    loaded: int = 0
    still_failing: int = 0
    skipped: int = 0  # not pending (already replayed or rejected)
    conflicts: list[int] = field(default_factory=list, repr=False)
    loaded_ids: list[int] = field(default_factory=list, repr=False)
    failing_ids: list[int] = field(default_factory=list, repr=False)
    not_replayable: list[int] = field(default_factory=list, repr=False)  # file-level entries

    def merge(self, other: ReplaySummary) -> None:
        self.loaded += other.loaded
        self.still_failing += other.still_failing
        self.skipped += other.skipped
        for name in ("conflicts", "loaded_ids", "failing_ids", "not_replayable"):
            getattr(self, name).extend(getattr(other, name))


def _replay_source(
    store: Store,
    records: list[ReviewRecord],
    contract: Contract,
    actor: str,
    expected_versions: dict[int, int],
    made: set[str],
) -> ReplaySummary:
    summary = ReplaySummary()
    replayable = [r for r in records if FILE_RULE not in r.rules]
    summary.not_replayable = [r.id for r in records if FILE_RULE in r.rules]
    if not replayable:
        return summary
    return judge_records(
        replayable,
        contract,
        lambda prepared: _write_replay(
            store, prepared.routed, replayable, contract, actor, expected_versions, summary, made
        ),
    )


def _write_replay(
    store: Store,
    routed: RoutedBatch,
    replayable: list[ReviewRecord],
    contract: Contract,
    actor: str,
    expected_versions: dict[int, int],
    summary: ReplaySummary,
    made: set[str],
) -> ReplaySummary:
    """In one transaction: each record's new verdict claimed at its version (one UPDATE
    for the failing, one for the loaded), the rows that now pass loaded with one insert
    (with their original lineage), one audit entry per batch of the records
    (:mod:`tidegate.store._review_audit`) saying what happened to each."""
    by_id = {r.id: r for r in replayable}
    verdicts = replay_verdicts(routed)
    normalized_json = dict(
        zip(
            routed.normalized_frame[RECORD_COLUMN].to_list(),
            routed.normalized_frame.drop(RECORD_COLUMN)
            .select(pl.struct(pl.all()).struct.json_encode())
            .to_series()
            .to_list(),
            strict=True,
        )
    )
    per_record: dict[int, dict[str, Any]] = {}
    with transaction(store) as con:
        if contract.source not in made:  # once a replay, not on each page
            ensure_store_tables(con)
            ensure_target_table(con, contract)
        load = routed.load
        claim_versions(
            con,
            [
                (
                    record_id,
                    expected_versions.get(record_id, by_id[record_id].version),
                    {
                        "errors": verdict["errors"],
                        "rules": verdict["rules"],
                        "normalized": verdict.get("normalized") or normalized_json[record_id],
                    },
                )
                for record_id, verdict in verdicts.items()
            ],
            actor,
        )
        for record_id, verdict in verdicts.items():
            summary.failing_ids.append(record_id)
            per_record[record_id] = {
                "outcome": "still_failing",
                "before": {"rules": list(by_id[record_id].rules)},
                "after": {"rules": verdict["rules"].split(",")},
            }
        summary.still_failing += len(verdicts)
        updated = 0
        if load.height:
            loaded_ids = load[RECORD_COLUMN].to_list()
            claim_versions(
                con,
                [
                    (
                        record_id,
                        expected_versions.get(record_id, by_id[record_id].version),
                        {"status": "replayed", "normalized": normalized_json[record_id]},
                    )
                    for record_id in loaded_ids
                ],
                actor,
            )
            # lineage: the row keeps the batch and the line it came from
            lineage = pl.DataFrame(
                {
                    RECORD_COLUMN: load[RECORD_COLUMN],
                    LINEAGE_BATCH: [by_id[i].batch_id for i in loaded_ids],
                    "_line": [by_id[i].record for i in loaded_ids],
                },
                schema={RECORD_COLUMN: pl.Int64, LINEAGE_BATCH: pl.String, "_line": pl.Int64},
            )
            routed, updated = apply_existing_keys(con, routed, contract)
            moved = set(loaded_ids) - set(routed.load[RECORD_COLUMN].to_list())
            if moved:
                raise ReviewError(
                    f"record {', '.join(map(str, sorted(moved)))}: key already loaded and the "
                    "contract's on_existing_key is quarantine; edit the key or reject the record"
                )
            rows = (
                routed.load.join(lineage, on=RECORD_COLUMN)
                .drop(RECORD_COLUMN)
                .rename({"_line": RECORD_COLUMN})
            )
            insert_target_rows(con, contract, rows)
            # the loaded values as the audit keeps them: read back in one parse, PII sealed
            # a column at a time
            values = json.loads("[" + ",".join(normalized_json[i] for i in loaded_ids) + "]")
            PiiSealer(con).seal_rows(values, pii_columns(contract))
            for record_id, row in zip(loaded_ids, values, strict=True):
                per_record[record_id] = {
                    "outcome": "loaded",
                    "before": {"status": "pending", "rules": list(by_id[record_id].rules)},
                    "after": {"status": "replayed", "values": row},
                }
            summary.loaded += len(loaded_ids)
            summary.loaded_ids.extend(loaded_ids)
        shared = {"contract_version": contract.version, "updated_existing_key": bool(updated)}
        entries = review_entries("record_replayed", per_record, by_id, shared)
        append_audit_many(con, entries, actor=actor)
    made.add(contract.source)  # committed: the later pages find the tables made
    return summary


def replay_records(
    store: Store,
    ids: Sequence[int],
    contracts: dict[str, Contract],
    *,
    actor: str | None = None,
    expected_versions: dict[int, int] | None = None,
    chunk_size: int = REPLAY_CHUNK,
    on_progress: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Replay records under each source's current contract, in atomic chunks."""
    actor = actor or default_actor()
    summary = ReplaySummary()
    ids = list(dict.fromkeys(ids))
    made: set[str] = set()  # sources whose tables a committed page made or brought up to date
    with kept_open(store):  # each page its own transaction; the file checkpointed once
        for start in range(0, len(ids), chunk_size):
            page = ids[start : start + chunk_size]
            with collector_paused():  # see tidegate.review._gc_pause
                _replay_page(
                    store,
                    page,
                    contracts,
                    actor,
                    expected_versions or {},
                    made,
                    summary,
                    single=len(ids) == 1,
                )
            if on_progress:
                on_progress(len(page))
    return summary


def _replay_page(
    store: Store,
    ids: list[int],
    contracts: dict[str, Contract],
    actor: str,
    expected_versions: dict[int, int],
    made: set[str],
    summary: ReplaySummary,
    *,
    single: bool,
) -> None:
    """One page of a replay, its records of each source in a transaction of their own."""
    chunk = require_records(store, ids)
    pending = [r for r in chunk if r.status == "pending"]
    summary.skipped += len(chunk) - len(pending)
    for source in sorted({r.source for r in pending}):
        part = [r for r in pending if r.source == source]
        contract = contract_for(contracts, source)
        while part:
            try:
                summary.merge(_replay_source(store, part, contract, actor, expected_versions, made))
                break
            except ReviewConflictError as exc:
                if single:
                    raise
                # another reviewer got there first: report it, replay the others
                summary.conflicts.append(exc.record_id)
                part = [r for r in part if r.id != exc.record_id]
