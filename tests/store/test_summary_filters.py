"""The queue summary from the counts table (issue 16) under every filter it answers:
column (told by the rules that name it), batch, time window and their combinations,
equals the summary counted over the records, on both stores, for randomized stores
and filters: batches written in two inserts at different times (a window can cut
them), rules that name two columns or none (a column filter they meet falls back to
the records), review claims and a reprocess in between."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from tidegate.store import Store, ensure_store_tables, transaction
from tidegate.store import _quarantine as quarantine
from tidegate.store import _row_writes as row_writes
from tidegate.store._quarantine import QuarantineFilter, count_by_rule_and_status
from tidegate.store._quarantine_rules import column_rules, delete_pending_of_batch
from tidegate.store._review_writes import claim_versions

T0 = datetime(2026, 1, 1, 12)
# rule -> the columns its errors name (None: no column)
RULES: dict[str, tuple[str | None, ...]] = {
    "email.regex": ("email",),
    "email.not_null": ("email",),
    "amount.range": ("amount",),
    "dates.order": ("start", "end"),  # one rule, two columns
    "file.unreadable": (None,),
}


def _frame(rng: random.Random, n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        picked = sorted(rng.sample(sorted(RULES), rng.randint(1, 3)))
        errors = [
            {"rule": r, "column": rng.choice(RULES[r]), "value": None, "message": "bad"}
            for r in picked
        ]
        rows.append(
            {
                "record": i + 2,
                "raw": json.dumps({"i": i}),
                "normalized": None,
                "errors": json.dumps(errors),
                "rules": ",".join(picked),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "record": pl.Int64,
            "raw": pl.String,
            "normalized": pl.String,
            "errors": pl.String,
            "rules": pl.String,
        },
    )


def _insert(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    frame: pl.DataFrame,
    source: str,
    batch: str,
    at: datetime,
) -> None:
    monkeypatch.setattr(row_writes, "utc_now", lambda: at)
    with transaction(store) as con:
        row_writes._insert_quarantine(
            con,
            frame,
            source=source,
            batch_id=batch,
            location="f.csv",
            contract_version=None,
            actor="t",
        )


def _build(store: Store, monkeypatch: pytest.MonkeyPatch, rng: random.Random) -> list[str]:
    with transaction(store) as con:
        ensure_store_tables(con)
    batches = []
    for b in range(4):
        batch, source = f"b{b}", rng.choice(["orders", "users"])
        batches.append(batch)
        for part in range(rng.randint(1, 2)):  # two inserts: a batch spanning two times
            at = T0 + timedelta(hours=3 * b + part)
            _insert(store, monkeypatch, _frame(rng, rng.randint(5, 25)), source, batch, at)
    with transaction(store) as con:
        rows = con.execute("SELECT id, version FROM quarantine ORDER BY id").fetchall()
        picked = rng.sample(rows, len(rows) // 4)
        claim_versions(con, [(i, v, {"status": "rejected"}) for i, v in picked[::2]], "t")
        claim_versions(
            con,
            [
                (
                    i,
                    v,
                    {
                        "errors": json.dumps([{"rule": "amount.range", "column": "amount"}]),
                        "rules": "amount.range",
                    },
                )
                for i, v in picked[1::2]
            ],
            "t",
        )
        delete_pending_of_batch(con, rng.choice(batches))
    return batches


def _filters(rng: random.Random, batches: list[str]) -> list[QuarantineFilter]:
    out = []
    for _ in range(40):
        picks: dict[str, Any] = {}
        if rng.random() < 0.3:
            picks["source"] = rng.choice(["orders", "users"])
        if rng.random() < 0.3:
            picks["rule"] = rng.choice([*RULES, "no.such.rule"])
        if rng.random() < 0.5:
            picks["column"] = rng.choice(["email", "amount", "start", "end", "nowhere"])
        if rng.random() < 0.3:
            picks["status"] = rng.choice(["pending", "rejected"])
        if rng.random() < 0.3:
            picks["batch"] = rng.choice(batches)
        if rng.random() < 0.5:
            picks["since"] = T0 + timedelta(minutes=rng.randrange(-60, 12 * 60, 30))
        if rng.random() < 0.5:
            picks["until"] = T0 + timedelta(minutes=rng.randrange(-60, 12 * 60, 30))
        out.append(QuarantineFilter(**picks))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_summary_from_counts_equals_the_records(
    store: Store, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    batches = _build(store, monkeypatch, rng)
    filters = _filters(rng, batches)
    answered: list[QuarantineFilter] = []
    from_counts = quarantine._from_counts

    def spy(con: Any, flt: QuarantineFilter, *args: Any) -> Any:
        out = from_counts(con, flt, *args)
        if out is not None:
            answered.append(flt)
        return out

    with monkeypatch.context() as m:
        m.setattr(quarantine, "_from_counts", spy)
        fast = [count_by_rule_and_status(store, f) for f in filters]
    # the counts table answered the column and time-window filters it can answer
    assert any(f.column == "email" and (f.since or f.until) for f in answered)
    assert not any(f.column in ("start", "end") for f in answered)
    with monkeypatch.context() as m:
        m.setattr(quarantine, "has_counts", lambda con: False)
        slow = [count_by_rule_and_status(store, f) for f in filters]
    for flt, a, b in zip(filters, fast, slow, strict=True):
        assert a == b, flt
    assert any(fast), "the filters matched nothing"


def test_column_rules_tells_a_column_only_by_rules_that_name_it_alone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(store, monkeypatch, random.Random(3))
    from tidegate.store import connect

    with connect(store, read_only=True) as con:
        assert column_rules(con, "email") == ["email.not_null", "email.regex"]
        assert column_rules(con, "amount") == ["amount.range"]
        assert column_rules(con, "start") is None  # dates.order names end too
        assert column_rules(con, "nowhere") == []


def test_a_counts_table_made_before_the_batch_and_time_columns_is_made_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _build(store, monkeypatch, random.Random(4))
    flt = QuarantineFilter(batch=batches[0], column="email")
    want = count_by_rule_and_status(store, flt)
    with transaction(store) as con:
        con.execute("DROP TABLE quarantine_counts")
        con.execute(
            "CREATE TABLE quarantine_counts (source VARCHAR NOT NULL, status VARCHAR NOT NULL, "
            "rules VARCHAR NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (source, status, rules))"
        )
    assert count_by_rule_and_status(store, flt) == want  # counted over the records
    with transaction(store) as con:
        ensure_store_tables(con)  # made again and counted; the fixture checks it after
    assert count_by_rule_and_status(store, flt) == want
