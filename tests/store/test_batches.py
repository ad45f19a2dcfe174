from __future__ import annotations

import hashlib
import json

import pytest

from helpers import make_contract, make_raw, process, query, scalar
from tidegate.audit import verify_chain
from tidegate.sources import FileReject
from tidegate.store import Store, commit_batch, commit_file_reject

ROW = {"order_id": "1", "status": "shipped", "amount": "10", "order_date": "2024-01-05"}


def _raw(rows: list[dict[str, str | None]], tag: str):  # type: ignore[no-untyped-def]
    return make_raw(rows, location=f"{tag}.csv", sha=hashlib.sha256(tag.encode()).hexdigest())


def test_existing_key_update_merges_and_counts(store: Store) -> None:
    contract = make_contract()
    commit_batch(store, process(_raw([ROW, {**ROW, "order_id": "2"}], "jan"), contract), contract)
    o = commit_batch(
        store, process(_raw([{**ROW, "status": "pending"}], "feb"), contract), contract
    )
    assert (o.loaded, o.updated, o.quarantined) == (1, 1, 0)
    assert query(store, "SELECT order_id, status FROM orders ORDER BY order_id") == [
        (1, "pending"),
        (2, "shipped"),
    ]
    detail = json.loads(scalar(store, "SELECT detail FROM audit WHERE batch_id = ?", [o.batch_id]))
    assert detail["updated"] == 1


def test_existing_key_quarantine_policy(store: Store) -> None:

    contract = make_contract(policy={"on_existing_key": "quarantine"})
    commit_batch(store, process(_raw([ROW], "jan"), contract), contract)
    o = commit_batch(
        store,
        process(_raw([{**ROW, "status": "pending"}, {**ROW, "order_id": "3"}], "feb"), contract),
        contract,
    )
    assert (o.rows_in, o.loaded, o.quarantined, o.updated) == (2, 1, 1, 0)
    assert query(store, "SELECT order_id, status FROM orders ORDER BY order_id") == [
        (1, "shipped"),
        (3, "shipped"),
    ]
    (raw, rules) = query(
        store, "SELECT raw, rules FROM quarantine WHERE batch_id = ?", [o.batch_id]
    )[0]
    assert rules == "_row.existing_key" and json.loads(raw)["status"] == "pending"


def test_same_content_is_skipped_and_the_skip_audited(store: Store) -> None:
    contract = make_contract()
    first = commit_batch(store, process(_raw([ROW], "jan"), contract), contract)
    again = commit_batch(store, process(_raw([ROW], "jan"), contract), contract)
    assert again.event == "batch_skipped" and again.batch_id == first.batch_id
    assert scalar(store, "SELECT count(*) FROM orders") == 1
    d = json.loads(scalar(store, "SELECT detail FROM audit WHERE event = 'batch_skipped'"))
    assert d["committed_contract_version"] == 1 and d["committed_batch_id"] == first.batch_id


def test_reprocess_replaces_rows_and_pending_quarantine_under_the_new_contract(
    store: Store,
) -> None:

    v1 = make_contract()
    rows = [ROW, {**ROW, "order_id": "2", "status": "returned"}]
    first = commit_batch(store, process(_raw(rows, "jan"), v1), v1)
    assert (first.loaded, first.quarantined) == (1, 1)
    v2 = make_contract(
        version=2,
        columns={
            **{k: v for k, v in json.loads(json.dumps(_columns())).items()},
            "status": {
                "type": "string",
                "normalize": {"lower": True},
                "checks": [{"isin": ["pending", "shipped", "returned"]}],
            },
        },
    )
    o = commit_batch(store, process(_raw(rows, "jan"), v2), v2, reprocess=True)
    assert o.event == "batch_reprocessed" and (o.loaded, o.quarantined) == (2, 0)
    assert scalar(store, "SELECT count(*) FROM orders") == 2
    assert (
        scalar(store, "SELECT count(*) FROM orders WHERE _tidegate_batch_id = ?", [first.batch_id])
        == 0
    )
    assert scalar(store, "SELECT count(*) FROM quarantine") == 0
    assert query(store, "SELECT status FROM checkpoints ORDER BY committed_at") == [
        ("replaced",),
        ("committed",),
    ]
    detail = json.loads(scalar(store, "SELECT detail FROM audit WHERE event = 'batch_reprocessed'"))
    assert detail["reprocess"]["replaced_batch_id"] == first.batch_id
    assert detail["reprocess"]["removed_loaded"] == 1
    assert detail["contract"]["version"] == 2
    assert verify_chain(store).ok


def _columns() -> dict:
    return {
        "order_id": {"type": "int64", "nullable": False},
        "status": {"type": "string"},
        "amount": {
            "type": "decimal(12,2)",
            "normalize": {"strip": ["$", ","]},
            "checks": [{"ge": 0}],
        },
        "order_date": {"type": "date", "formats": ["%Y-%m-%d", "%d/%m/%Y"]},
    }


def test_file_reject_is_one_entry_and_is_skipped_on_rerun(store: Store) -> None:
    contract = make_contract()
    reject = FileReject(
        source="orders",
        location="bad.csv",
        content_sha256="c" * 64,
        reason="not a text/CSV file",
        size_bytes=10,
        head="\\x89PNG",
    )
    o = commit_file_reject(store, reject, contract=contract)
    assert o.event == "file_rejected" and o.quarantined == 1
    (raw, rules, record) = query(store, "SELECT raw, rules, record FROM quarantine")[0]
    assert rules == "_file.unreadable" and record is None and json.loads(raw)["file"] == "bad.csv"
    again = commit_file_reject(store, reject, contract=contract)
    assert again.event == "batch_skipped"
    assert scalar(store, "SELECT count(*) FROM quarantine") == 1


def test_a_failed_commit_leaves_nothing(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tidegate.store._batches as batches

    contract = make_contract()
    commit_batch(store, process(_raw([ROW], "jan"), contract), contract)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(batches, "_insert_checkpoint", crash)
    routed = process(
        _raw([{**ROW, "order_id": "5"}, {**ROW, "order_id": "6", "amount": "-1"}], "feb"), contract
    )
    with pytest.raises(OSError, match="disk full"):
        commit_batch(store, routed, contract)
    assert scalar(store, "SELECT count(*) FROM orders") == 1
    assert scalar(store, "SELECT count(*) FROM quarantine") == 0
    assert scalar(store, "SELECT count(*) FROM audit") == 1
