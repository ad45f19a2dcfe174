"""Skips in bulk: the committed keys read once, many skips audited in one transaction."""

from __future__ import annotations

import hashlib
import json

from helpers import make_contract, make_raw, process, query
from tidegate.audit import verify_chain
from tidegate.sources import FileReject
from tidegate.store import Store, commit_batch, commit_file_reject, record_skip
from tidegate.store._committed import batch_key_of
from tidegate.store._skips import committed_keys, record_skips

ROW = {"order_id": "1", "status": "shipped", "amount": "10", "order_date": "2024-01-05"}


def _raw(tag: str, order_id: str = "1"):  # type: ignore[no-untyped-def]
    sha = hashlib.sha256(tag.encode()).hexdigest()
    return make_raw([{**ROW, "order_id": order_id}], location=f"{tag}.csv", sha=sha)


def test_committed_keys_of_an_empty_store_and_over_the_limit(store: Store) -> None:
    contract = make_contract()
    assert committed_keys(store, "orders") == frozenset()
    jan, feb = _raw("jan"), _raw("feb", "2")
    for raw in (jan, feb):
        commit_batch(store, process(raw, contract), contract)
    assert committed_keys(store, "orders") == {batch_key_of(jan), batch_key_of(feb)}
    assert committed_keys(store, "other") == frozenset()
    assert committed_keys(store, "orders", limit=1) is None  # look each key up instead


def test_bulk_skips_write_the_entries_one_skip_at_a_time_would(store: Store) -> None:
    contract = make_contract()
    jan, feb = _raw("jan"), _raw("feb", "2")
    reject = FileReject("orders", "bad.csv", None, "not a text/CSV file")
    outcomes = [commit_batch(store, process(r, contract), contract) for r in (jan, feb)]
    outcomes.append(commit_file_reject(store, reject, contract=contract))
    one = record_skip(store, "orders", "jan.csv", batch_key_of(jan), contract, "tester")
    assert one is not None
    bulk = record_skips(
        store,
        "orders",
        [(i.location, batch_key_of(i)) for i in (jan, feb, reject)],
        contract,
        "tester",
    )
    assert [o.event for o in bulk] == ["batch_skipped"] * 3
    assert [o.batch_id for o in bulk] == [o.batch_id for o in outcomes]
    assert [o.audit_seq for o in bulk] == [one.audit_seq + 1, one.audit_seq + 2, one.audit_seq + 3]
    assert bulk[0].reason == one.reason and bulk[0].location == one.location
    rows = query(store, "SELECT event, batch_id, actor, detail FROM audit ORDER BY seq")
    single, first = rows[3], rows[4]
    assert single[:3] == first[:3] and json.loads(single[3]) == json.loads(first[3])
    assert verify_chain(store).ok


def test_bulk_skips_stop_before_a_key_that_is_not_committed(store: Store) -> None:
    contract = make_contract()
    jan, feb, mar = _raw("jan"), _raw("feb", "2"), _raw("mar", "3")
    for raw in (jan, mar):
        commit_batch(store, process(raw, contract), contract)
    skips = [(r.location, batch_key_of(r)) for r in (jan, feb, mar)]
    bulk = record_skips(store, "orders", skips, contract)
    assert [o.location for o in bulk] == ["jan.csv"]  # feb is processed next, then mar
    assert record_skips(store, "orders", [], contract) == []
    events = query(store, "SELECT event FROM audit ORDER BY seq")
    assert [e for (e,) in events] == ["batch_committed", "batch_committed", "batch_skipped"]
