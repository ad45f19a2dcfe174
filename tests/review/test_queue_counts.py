"""The quarantine's counts table (issue 16: the queue's summary without counting the
queue) stays equal to a fresh GROUP BY after every kind of write, on both stores, and
the summary it answers is the one the records themselves give."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from helpers import copy_store, counts_in_step, query, tg_ok
from store_backends import drop_pg_store, make_store
from tidegate.store import PostgresStore, Store, connect
from tidegate.store import _quarantine as quarantine
from tidegate.store._quarantine import QuarantineFilter, count_by_rule_and_status

pytestmark = pytest.mark.e2e

FILTERS = (
    {},
    {"source": "orders"},
    {"status": "pending"},
    {"rule": "email.regex"},
    {"rule": "email.regex", "source": "orders", "status": "rejected"},
    {"rule": "no.such.rule"},
    {"column": "email"},
)


def _summaries(store: Store) -> dict[str, list[tuple[str, str, str, int]]]:
    return {
        str(picks): count_by_rule_and_status(store, QuarantineFilter(**picks)) for picks in FILTERS
    }


def _summary_from_records(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[tuple[str, str, str, int]]]:
    """The summary as it was before the counts table: counted over the quarantine."""
    with monkeypatch.context() as m:
        m.setattr(quarantine, "has_counts", lambda con: False)
        return _summaries(store)


def _pending(store: Store, rule: str) -> list[int]:
    return [
        r[0]
        for r in query(
            store,
            "SELECT id FROM quarantine WHERE status = 'pending' "
            "AND strpos(',' || rules || ',', ?) > 0 ORDER BY id",
            [f",{rule},"],
        )
    ]


def test_counts_follow_every_review_write(
    demo_copy: Store, project_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = demo_copy
    counts_in_step(store)  # the demo's ingest: rows and file-level rejects
    assert query(store, "SELECT count(*) FROM quarantine_counts WHERE n > 0")[0][0] > 0

    def step() -> None:
        counts_in_step(store)
        assert _summaries(store) == _summary_from_records(store, monkeypatch)

    step()
    emails = _pending(store, "email.regex")
    tg_ok(store, project_root, "quarantine", "reject", str(emails[0]), "--reason", "spam")
    step()
    tg_ok(store, project_root, "quarantine", "edit", str(emails[1]), "--set", "email=a@b.example")
    step()
    tg_ok(store, project_root, "quarantine", "replay", str(emails[1]))  # loads: replayed
    step()
    tg_ok(store, project_root, "quarantine", "replay", str(emails[2]))  # still fails
    step()
    sheet = tmp_path / "orders.csv"
    tg_ok(store, project_root, "quarantine", "export", "--source", "orders", "-o", str(sheet))
    rows = list(csv.DictReader(sheet.open()))
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:1])
    tg_ok(store, project_root, "quarantine", "import", str(sheet))
    step()
    tg_ok(store, project_root, "quarantine", "replay", "--source", "orders")  # bulk
    step()
    for (source,) in query(store, "SELECT DISTINCT source FROM quarantine"):
        tg_ok(store, project_root, "quarantine", "reject", "--source", source, "--reason", "bulk")
    step()
    assert query(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'")[0][0] == 0
    summary = count_by_rule_and_status(store, QuarantineFilter(status="pending"))
    assert summary == []  # every pending key counted down to 0 and not shown


def test_an_older_store_gets_its_counts_in_one_group_by(
    demo_copy: Store, project_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = demo_copy
    want = _summary_from_records(store, monkeypatch)
    with connect(store) as con:
        con.execute("DROP TABLE quarantine_counts")
    assert _summaries(store) == want  # read-only, no table: counted over the records
    tg_ok(store, project_root, "store", "init")
    counts_in_step(store)
    assert _summaries(store) == want


@pytest.mark.postgres
def test_store_copy_counts_the_copied_records(demo_template: Path, tmp_path: Path) -> None:
    from tidegate.store._copy import copy_store as copy_to_postgres

    source = copy_store(demo_template, tmp_path / "demo")
    with connect(source) as con:  # a source made before the counts table
        con.execute("DROP TABLE quarantine_counts")
    target = make_store("postgres", tmp_path)
    assert isinstance(target, PostgresStore)
    try:
        copy_to_postgres(source, target)
        counts_in_step(target)
        assert (
            query(target, "SELECT sum(n) FROM quarantine_counts")[0][0]
            == (query(source, "SELECT count(*) FROM quarantine")[0][0])
        )
    finally:
        drop_pg_store(target)
