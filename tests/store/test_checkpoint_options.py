"""Checkpoints record the read options a batch was committed under; a store made
before that column gets it, and its old checkpoints skip as before (nothing to compare)."""

from __future__ import annotations

import json

from helpers import make_contract, make_raw, process, query
from tidegate.batches._read_options import reading_with
from tidegate.store import Store, commit_batch, record_skip
from tidegate.store._committed import batch_key_of
from tidegate.store._connect import transaction
from tidegate.store._tables import LATER_CHECKPOINT_COLUMNS

ROW = {"order_id": "1", "status": "shipped", "amount": "10", "order_date": "2024-01-05"}
UTF8 = {"encoding": "utf-8", "delimiter": None}


def _columns(store: Store) -> set[str]:
    rows = query(
        store,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'checkpoints' "
        "AND table_schema = current_schema()",
    )
    return {r[0] for r in rows}


def test_an_old_store_gets_the_columns_and_old_checkpoints_skip_quietly(store: Store) -> None:
    contract = make_contract()
    old = make_raw([ROW], location="old.csv", sha="a" * 64)
    commit_batch(store, process(old, contract), contract)
    with transaction(store) as con:  # as a store made before source options were recorded
        for column in ("source_options", "source_options_hash"):
            con.execute(f"ALTER TABLE checkpoints DROP COLUMN {column}")
    assert not _columns(store) & {"source_options", "source_options_hash"}

    new = make_raw([{**ROW, "order_id": "2"}], location="new.csv", sha="b" * 64)
    with reading_with(UTF8):
        commit_batch(store, process(new, contract), contract)
        assert set(LATER_CHECKPOINT_COLUMNS) <= _columns(store)
        skipped = record_skip(store, "orders", "old.csv", batch_key_of(old), contract)
    assert skipped is not None and "changed since" not in (skipped.reason or "")
    rows = query(store, "SELECT location, source_options FROM checkpoints ORDER BY location")
    assert [(loc, json.loads(o) if o else None) for loc, o in rows] == [
        ("new.csv", UTF8),
        ("old.csv", None),
    ]
    with reading_with({**UTF8, "encoding": "latin-1"}):  # now there is something to compare
        changed = record_skip(store, "orders", "new.csv", batch_key_of(new), contract)
    assert changed is not None
    assert "source options changed since: encoding utf-8 -> latin-1" in (changed.reason or "")
