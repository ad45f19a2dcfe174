"""Bulk replay and reject by filter: set-wise writes, one audit entry per page and batch
that still says what happened to every record, and the version check between reviewers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import query, scalar, tg_ok
from tidegate.errors import ReviewConflictError
from tidegate.review import contracts_by_source, edit_records, reject_records, replay_records
from tidegate.rules import UNREADABLE_FILE_RULE as FILE_RULE
from tidegate.store import Store
from tidegate.store._review_audit import record_details

pytestmark = pytest.mark.e2e


tg = tg_ok


def _pending(store: Store, rule: str = "email.regex") -> list[int]:
    return [
        int(i)
        for (i,) in query(
            store,
            "SELECT id FROM quarantine WHERE source = 'orders' AND status = 'pending' "
            "AND rules = ? ORDER BY id",
            [rule],
        )
    ]


def _covered(store: Store, event: str) -> dict[int, list[dict]]:
    """Record id -> what each ``event`` entry says happened to it."""
    out: dict[int, list[dict]] = {}
    for (detail,) in query(store, "SELECT detail FROM audit WHERE event = ? ORDER BY seq", [event]):
        for record_id, what in record_details(json.loads(detail)).items():
            out.setdefault(record_id, []).append(what)
    return out


def test_bulk_replay_loads_each_fixed_record_once_and_audits_each(
    demo_copy: Store, project_root: Path
) -> None:
    store = demo_copy
    ids = _pending(store)
    assert len(ids) >= 3
    fixed = ids[:2]
    edit_records(
        store,
        {i: (None, {"email": f"fixed{i}@example.com"}) for i in fixed},
        contracts_by_source(project_root),
    )
    rules = query(
        store, "SELECT rules FROM quarantine WHERE source = 'orders' AND status = 'pending'"
    )
    file_level = sum(FILE_RULE in r.split(",") for (r,) in rules)
    selected = len(rules) - file_level  # file-level entries are not replayable
    out = tg(store, project_root, "quarantine", "replay", "--source", "orders")
    loaded = query(store, "SELECT id FROM quarantine WHERE status = 'replayed' ORDER BY id")
    loaded_ids = [int(i) for (i,) in loaded]
    assert set(fixed) <= set(loaded_ids)
    still = _pending(store)
    assert set(still).isdisjoint(fixed) and set(ids[2:]) <= set(still)
    for i in fixed:  # loaded exactly once, with its lineage
        rows = query(
            store,
            "SELECT o._tidegate_batch_id, o._tidegate_record FROM orders o WHERE o.email = ?",
            [f"fixed{i}@example.com"],
        )
        assert rows == query(store, "SELECT batch_id, record FROM quarantine WHERE id = ?", [i])
    for i in ids[2:]:  # still failing: pending, its version moved on, its reasons kept
        status, version, rules = query(
            store, "SELECT status, version, rules FROM quarantine WHERE id = ?", [i]
        )[0]
        assert (status, version, rules) == ("pending", 2, "email.regex")
    covered = _covered(store, "record_replayed")
    pending_after = scalar(
        store, "SELECT count(*) FROM quarantine WHERE source = 'orders' AND status = 'pending'"
    )
    assert len(covered) == selected  # every judged record audited, once
    assert all(len(v) == 1 for v in covered.values())
    outcomes = [v[0]["outcome"] for v in covered.values()]
    assert outcomes.count("loaded") == len(loaded_ids)
    assert outcomes.count("still_failing") == pending_after - file_level
    assert (
        f"{len(loaded_ids)} loaded" in out and f"{pending_after - file_level} still failing" in out
    )
    entries = scalar(store, "SELECT count(*) FROM audit WHERE event = 'record_replayed'")
    batches = scalar(
        store, "SELECT count(DISTINCT batch_id) FROM quarantine WHERE source = 'orders'"
    )
    assert entries <= batches < selected  # one entry per batch of the page, not per record
    assert "intact" in tg(store, project_root, "audit", "verify")

    again = tg(store, project_root, "quarantine", "replay", "--source", "orders")
    assert "0 loaded" in again
    for i in fixed:
        assert (
            scalar(store, "SELECT count(*) FROM orders WHERE email = ?", [f"fixed{i}@example.com"])
            == 1
        )


def test_bulk_replay_skips_a_record_another_reviewer_changed(
    demo_copy: Store, project_root: Path
) -> None:
    store = demo_copy
    contracts = contracts_by_source(project_root)
    ids = _pending(store)
    edit_records(
        store, {i: (None, {"email": f"ok{i}@example.com"}) for i in ids}, contracts, actor="alice"
    )
    # bob read ids[0] at version 1; alice has edited it since (version 2)
    summary = replay_records(store, ids, contracts, actor="bob", expected_versions={ids[0]: 1})
    assert summary.conflicts == [ids[0]]
    assert summary.loaded == len(ids) - 1
    assert query(store, "SELECT status, version FROM quarantine WHERE id = ?", [ids[0]]) == [
        ("pending", 2)
    ]
    assert ids[0] not in _covered(store, "record_replayed")


def test_bulk_reject_by_filter_is_all_or_nothing_and_audited_per_record(
    demo_copy: Store, project_root: Path
) -> None:
    store = demo_copy
    ids = _pending(store)
    with pytest.raises(ReviewConflictError):  # one stale version: nothing is rejected
        reject_records(store, ids, "spam", actor="bob", expected_versions={ids[-1]: 7})
    assert _pending(store) == ids
    out = tg(
        store,
        project_root,
        "quarantine",
        "reject",
        "--source",
        "orders",
        "--rule",
        "email.regex",
        "--reason",
        "test accounts",
    )
    assert f"{len(ids)} record(s) rejected" in out
    assert query(
        store,
        f"SELECT DISTINCT status, reason, version FROM quarantine "
        f"WHERE id IN ({', '.join(map(str, ids))})",
    ) == [("rejected", "test accounts", 2)]
    covered = _covered(store, "record_rejected")
    assert sorted(covered) == ids
    assert all(
        len(v) == 1 and v[0]["reason"] == "test accounts" and v[0]["outcome"] == "rejected"
        for v in covered.values()
    )
    listed = tg(store, project_root, "audit", "list", "-e", "record_rejected")
    assert "record(s)" in listed  # the entry summary counts the records it covers
    assert "intact" in tg(store, project_root, "audit", "verify")
