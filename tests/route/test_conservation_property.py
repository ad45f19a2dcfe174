"""Property: for any messy batch, every row ends loaded, quarantined or duplicate; counts add up."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import make_contract, make_raw, process
from tidegate.sources import RawBatch, RecordReject
from tidegate.store import commit_batch

messy_id = st.one_of(
    st.integers(1, 6).map(str), st.sampled_from(["", "N/A", " 3 ", "x", "-1", "1.5"])
)
messy_status = st.sampled_from(["shipped", " Pending ", "SHIPPED", "lost", "", "null", "N/A"])
messy_amount = st.one_of(
    st.decimals(-50, 100000, places=2, allow_nan=False).map(str),
    st.sampled_from(["$1,234.50", "twelve", "", "(3.00)", "1.999", "9" * 20]),
)
messy_date = st.sampled_from(["2024-01-05", "05/01/2024", "2024-02-30", "", "Jan 05 2024", "soon"])
row = st.fixed_dictionaries(
    {"order_id": messy_id, "status": messy_status, "amount": messy_amount, "order_date": messy_date}
)
policies = st.fixed_dictionaries(
    {
        "on_row_failure": st.sampled_from(["quarantine", "fail_batch"]),
        "on_existing_key": st.sampled_from(["update", "quarantine"]),
        "max_quarantine_ratio": st.sampled_from([0.0, 0.3, 1.0]),
    }
)


def _batch(rows: list[dict[str, str]], ragged: int, tag: str) -> RawBatch:
    base = make_raw(rows, sha=hashlib.sha256(tag.encode()).hexdigest()) if rows else None
    frame = base.frame if base else make_raw([{"order_id": "1"}]).frame.clear()
    rejects = tuple(
        RecordReject(record=1000 + i, raw="1,2", reason="ragged row: 2 fields, header has 4")
        for i in range(ragged)
    )
    return RawBatch(
        source="orders",
        location=f"{tag}.csv",
        content_sha256=hashlib.sha256(tag.encode()).hexdigest(),
        frame=frame,
        rejects=rejects,
    )


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(row, max_size=40), ragged=st.integers(0, 3), policy=policies)
def test_routing_conserves_rows(rows: list[dict[str, str]], ragged: int, policy: dict) -> None:
    raw = _batch(rows, ragged, json.dumps(rows))
    routed = process(raw, make_contract(policy=policy))
    assert routed.rows_in == len(rows) + ragged
    assert routed.loaded + routed.quarantined + routed.duplicates == routed.rows_in
    # nothing is both loaded and quarantined
    loaded = set(routed.load["_tidegate_record"].to_list())
    quarantined = set(routed.quarantine["record"].to_list())
    assert not loaded & quarantined
    assert routed.load["order_id"].n_unique() == routed.loaded  # one row per key
    if routed.held:
        assert routed.loaded == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.lists(row, min_size=1, max_size=15), min_size=1, max_size=3),
    policy=policies,
)
def test_store_counts_match_the_batches(batches: list[list[dict[str, str]]], policy: dict) -> None:
    contract = make_contract(policy=policy)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.duckdb"
        outcomes = [
            commit_batch(
                store, process(_batch(rows, 1, f"{i}{rows}"), contract), contract, actor="prop"
            )
            for i, rows in enumerate(batches)
        ]
        con = duckdb.connect(str(store), read_only=True)
        try:
            for o in outcomes:
                assert o.rows_in == o.loaded + o.quarantined + o.duplicates
                (q,) = con.execute(
                    "SELECT count(*) FROM quarantine WHERE batch_id = ?", [o.batch_id]
                ).fetchone()
                assert q == o.quarantined
            (target,) = con.execute("SELECT count(*) FROM orders").fetchone()
            assert target == sum(o.loaded for o in outcomes) - sum(o.updated for o in outcomes)
            (distinct,) = con.execute("SELECT count(DISTINCT order_id) FROM orders").fetchone()
            assert distinct == target
        finally:
            con.close()
