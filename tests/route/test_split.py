from __future__ import annotations

import json

import polars as pl
import pytest

from helpers import make_contract, make_raw, process
from tidegate.errors import ConservationError
from tidegate.sources import RawBatch, RecordReject

GOOD = {"order_id": "1", "status": "shipped", "amount": "10", "order_date": "2024-01-05"}


def _row(**kw: str | None) -> dict[str, str | None]:
    return {**GOOD, **kw}


def test_exact_repeat_is_a_duplicate_and_a_different_repeat_is_quarantined() -> None:
    raw = make_raw([_row(), _row(), _row(status="pending"), _row(order_id="2")])
    routed = process(raw, make_contract())
    assert (routed.loaded, routed.quarantined, routed.duplicates) == (2, 1, 1)
    assert routed.duplicate_records == (3,)
    q = routed.quarantine.row(0, named=True)
    assert q["record"] == 4 and q["rules"] == "_row.duplicate_key"
    assert "record 2" in json.loads(q["errors"])[0]["message"]


def test_quarantine_keeps_the_raw_record_as_read() -> None:
    raw = make_raw([_row(status="  LOST ", amount="$1,000")])
    routed = process(raw, make_contract())
    q = routed.quarantine.row(0, named=True)
    assert json.loads(q["raw"]) == {
        "order_id": "1",
        "status": "  LOST ",
        "amount": "$1,000",
        "order_date": "2024-01-05",
    }
    assert json.loads(q["normalized"])["status"] == "lost"
    assert json.loads(q["normalized"])["amount"] == "1000"
    (error,) = json.loads(q["errors"])
    assert error == {
        "rule": "status.isin",
        "column": "status",
        "value": "  LOST ",
        "message": "must be one of ['pending', 'shipped']",
    }


def test_ragged_rows_are_record_level_quarantine() -> None:
    base = make_raw([_row()])
    raw = RawBatch(
        source="orders",
        location="x.csv",
        content_sha256="b" * 64,
        frame=base.frame,
        rejects=(RecordReject(record=3, raw="1,2", reason="ragged row: 2 fields, header has 4"),),
    )
    routed = process(raw, make_contract())
    assert routed.rows_in == 2 and routed.loaded == 1 and routed.quarantined == 1
    q = routed.quarantine.row(0, named=True)
    assert q["record"] == 3 and q["rules"] == "_row.ragged"
    assert json.loads(q["raw"]) == {"text": "1,2"}


def test_batch_above_max_quarantine_ratio_is_held_whole() -> None:
    contract = make_contract(policy={"max_quarantine_ratio": 0.2})
    raw = make_raw(
        [_row(order_id=str(i)) for i in range(1, 8)]
        + [_row(order_id="8", status="x"), _row(order_id="9", status="y")]
    )
    routed = process(raw, contract)
    assert routed.held and "0.222" in routed.held
    assert routed.loaded == 0 and routed.quarantined == 9
    rules = routed.quarantine["rules"].to_list()
    assert rules.count("_batch.held") == 7
    assert rules.count("_batch.held,status.isin") == 2


def test_fail_batch_holds_on_any_failure() -> None:
    contract = make_contract(policy={"on_row_failure": "fail_batch"})
    routed = process(make_raw([_row(), _row(order_id="2", amount="-1")]), contract)
    assert routed.held and "fail_batch" in routed.held
    assert routed.loaded == 0 and routed.quarantined == 2


def test_file_with_no_contract_column_is_held() -> None:
    routed = process(make_raw([{"foo": "1", "bar": "2"}]), make_contract())
    assert routed.held and "no column of the contract" in routed.held
    assert routed.loaded == 0 and routed.quarantined == 1


def test_conservation_violation_raises() -> None:
    routed = process(make_raw([_row()]), make_contract())
    broken = type(routed)(**{**routed.__dict__, "duplicates": 1})
    with pytest.raises(ConservationError, match="rows_in=1"):
        broken.check_conservation()


def test_move_to_quarantine_keeps_the_counts() -> None:
    routed = process(make_raw([_row(), _row(order_id="2")]), make_contract())
    moved = routed.move_to_quarantine([2], "_row.existing_key", "key exists")
    assert moved.loaded == 1 and moved.quarantined == 1
    assert moved.load["order_id"].to_list() == [2]
    assert moved.quarantine["rules"].to_list() == ["_row.existing_key"]
    assert pl.Series(moved.quarantine["record"]).to_list() == [2]
