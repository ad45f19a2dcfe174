"""How a bulk replay reads, judges and writes its pages: the store kept open between
pages (a DuckDB file checkpointed once, not per page), a page's raw records turned into
the judged frame a header group and a column at a time, PII sealed a column at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import copy_store, query, scalar
from tidegate.contracts import load_contract
from tidegate.review import contracts_by_source, current_values, replay_records
from tidegate.review._judge import replay_frame
from tidegate.store import transaction
from tidegate.store._pii_seal import PiiSealer, _Seal, open_detail, value_hmac
from tidegate.store._review_records import ReviewRecord
from tidegate.store._tables import ensure_store_tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_a_replay_keeps_the_duckdb_file_open_between_pages_and_checkpoints_at_the_end(
    demo_template: Path, tmp_path: Path, project_root: Path
) -> None:
    store = copy_store(demo_template, tmp_path / "demo")
    wal = store.with_name(store.name + ".wal")
    ids = [
        int(i)
        for (i,) in query(
            store,
            "SELECT id FROM quarantine WHERE status = 'pending' AND source = 'orders' "
            "AND rules = 'email.regex' ORDER BY id",
        )
    ]
    assert len(ids) >= 3 and not wal.exists()
    log_after_each_page: list[bool] = []
    summary = replay_records(
        store,
        ids,
        contracts_by_source(project_root),
        chunk_size=1,
        on_progress=lambda _: log_after_each_page.append(wal.exists()),
    )
    # each page committed (its log written) but the file not checkpointed as it closed
    assert log_after_each_page == [True] * len(ids)
    assert not wal.exists()  # checkpointed once, when the replay let go of the file
    assert summary.still_failing == len(ids)
    assert scalar(
        store,
        f"SELECT count(*) FROM quarantine WHERE version = 2 AND id IN ({','.join(map(str, ids))})",
    ) == len(ids)


def _record(i: int, raw: dict, edited: dict | None = None) -> ReviewRecord:
    return ReviewRecord(
        id=i,
        source="orders",
        batch_id=f"b{i % 2}",
        record=i,
        raw=raw,
        rules=("email.regex",),
        status="pending",
        version=1,
        contract_version=1,
        edited=edited or {},
    )


def test_the_judged_frame_holds_each_records_current_values_whatever_its_headers() -> None:
    contract = load_contract(ROOT / "schemas" / "orders.yaml")
    spelled = {"OrderID": "1", "Customer ID": "7", "E-mail": "a@", "qty": "2", "state": "New"}
    records = [
        _record(1, spelled),
        _record(2, {"order_id": "2", "customer_id": 5, "email": None}),  # a number, a null
        _record(3, {"text": "a line never split into fields"}),
        _record(4, dict(spelled, OrderID="4"), {"email": "fixed@example.com", "qty": None}),
        _record(5, {"text": "x", "order_id": "9"}),
        _record(6, dict(spelled, OrderID="6"), {"quantity": None, "status": "shipped"}),
    ]
    frame = replay_frame(records, contract)
    expected = [
        {c: None if v is None else str(v) for c, v in current_values(r, contract).items()}
        for r in records
    ]
    assert frame.drop("_tidegate_record").to_dicts() == expected
    assert frame["_tidegate_record"].to_list() == [1, 2, 3, 4, 5, 6]
    assert expected[0]["order_id"] == "1" and expected[1]["customer_id"] == "5"
    assert expected[3]["email"] == "fixed@example.com" and expected[5]["quantity"] is None


def test_a_column_sealed_at_once_opens_and_matches_as_values_sealed_one_by_one(
    tmp_path: Path,
) -> None:
    key = os.urandom(32)
    values = ["ann@example.com", 'zoë\u0001"@x', 12, {"nested": [1, 2]}, 2.5]
    sealed = _Seal("pk_1", key).many(values)
    assert [open_detail(s, {"pk_1": key}) for s in sealed] == values
    assert [s["hmac"] for s in sealed] == [value_hmac(key, v) for v in values]
    assert len({s["ciphertext"][:16] for s in sealed}) == len(values)  # a nonce each
    assert all(s["pii"] is True and s["key"] == "pk_1" for s in sealed)

    store = tmp_path / "s.duckdb"
    rows = [{"email": "a@x.io", "n": 1}, {"email": None, "n": 2}, {"n": 3}]
    with transaction(store) as con:
        ensure_store_tables(con)
        sealer = PiiSealer(con)
        one_by_one = [sealer.seal_columns(r, {"email"}) for r in rows]
        sealer.seal_rows(rows, {"email"})
    assert rows[1:] == one_by_one[1:] == [{"email": None, "n": 2}, {"n": 3}]
    assert rows[0]["email"]["hmac"] == one_by_one[0]["email"]["hmac"]
    assert rows[0]["email"]["ciphertext"] != one_by_one[0]["email"]["ciphertext"]


def test_the_collector_is_paused_for_a_page_and_left_as_it_was_found() -> None:
    import gc

    from tidegate.review._gc_pause import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a page that fails")
    assert gc.isenabled()  # back on, even after a failed page
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
