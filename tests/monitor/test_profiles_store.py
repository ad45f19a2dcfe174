"""The profiles table: newest first, limited, the current batch and replaced batches left out."""

from __future__ import annotations

from helpers import process
from monitor._support import run_batch, sales_contract, sales_rows
from tidegate.monitor import monitor_batch
from tidegate.store import Store, commit_batch, ensure_store_tables, transaction
from tidegate.store._profiles import read_recent_profiles, save_profile


def test_recent_profiles_are_newest_first_and_limited(store: Store) -> None:
    with transaction(store) as con:
        ensure_store_tables(con)
        for i in range(4):
            save_profile(con, "sales", f"b{i}", {"rows_in": i})
        save_profile(con, "other", "x", {"rows_in": 99})
    with transaction(store) as con:
        recent = read_recent_profiles(con, "sales", 2)
        assert [p.batch_id for p in recent] == ["b3", "b2"]
        recent = read_recent_profiles(con, "sales", 10, exclude_batch_id="b3")
        assert [p.profile["rows_in"] for p in recent] == [2, 1, 0]


def test_a_reprocessed_batch_is_not_its_own_baseline(store: Store) -> None:
    from helpers import make_raw
    from tidegate.monitor import MonitorConfig, RowCountConfig

    config = MonitorConfig(row_count=RowCountConfig(vs_recent=1.5))
    run_batch(store, config, sales_rows(10), name="a")
    big = sales_rows(40, first_id=100)
    alerts, first, _ = run_batch(store, config, big, name="b")
    assert [a.kind for a in alerts] == ["row_count"]

    contract = sales_contract()
    raw = make_raw(big, source="sales", location="b.csv", sha=(b"b".hex() * 64)[:64])
    routed = process(raw, contract)
    again = commit_batch(store, routed, contract, reprocess=True)
    assert again.event == "batch_reprocessed"
    alerts = monitor_batch(store, config, routed, again, contract)
    assert [a.detail["recent_median"] for a in alerts] == [10], "only batch a is the norm"
    with transaction(store) as con:
        ids = [p.batch_id for p in read_recent_profiles(con, "sales", 10)]
    assert first.batch_id not in ids and again.batch_id in ids
