"""Offset and keyset pages and their capped counts under every filter combination, on
both stores, with DuckDB's id windows made a few ids wide so that every page and count
crosses window edges (a store built by the real demo flow)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from helpers import query, tg_ok
from store_backends import pg_database_copy
from tidegate.store import Store
from tidegate.store import _quarantine_pages as pages
from tidegate.store._quarantine import QuarantineFilter, list_records

pytestmark = pytest.mark.e2e


@pytest.fixture
def narrow_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "FIRST_WINDOW", 2)
    monkeypatch.setattr(pages, "GROWTH", 2)


def _truth(store: Store) -> list[dict[str, Any]]:
    rows = query(
        store, "SELECT id, source, status, batch_id, errors, created_at FROM quarantine ORDER BY id"
    )
    return [
        {
            "id": id_,
            "source": source,
            "status": status,
            "batch": batch,
            "rules": {e["rule"] for e in json.loads(errors)},
            "columns": {e["column"] for e in json.loads(errors) if e.get("column")},
            "created_at": created,
        }
        for id_, source, status, batch, errors, created in rows
    ]


def _matches(flt: QuarantineFilter, t: dict[str, Any]) -> bool:
    return (
        (not flt.source or t["source"] == flt.source)
        and (not flt.rule or flt.rule in t["rules"])
        and (not flt.column or flt.column in t["columns"])
        and (not flt.status or t["status"] == flt.status)
        and (not flt.batch or t["batch"] == flt.batch)
        and (not flt.since or t["created_at"] >= flt.since)
        and (not flt.until or t["created_at"] < flt.until)
    )


def test_offset_pages_and_capped_counts_match_every_filter(
    demo_copy: Store, narrow_windows: None, project_root: Path
) -> None:
    # a reject and a replay first, so that statuses differ within one source
    pending = [r[0] for r in query(demo_copy, "SELECT id FROM quarantine ORDER BY id")]
    tg_ok(demo_copy, project_root, "quarantine", "reject", str(pending[1]), "--reason", "t")
    truth = _truth(demo_copy)
    assert len(truth) > 8  # several windows of 2, 4, 8 ... ids
    batch = sorted({t["batch"] for t in truth if t["source"] == "orders"})[0]
    times = sorted(t["created_at"] for t in truth)
    choices: dict[str, list[Any]] = {
        "source": [None, "orders"],
        "rule": [None, "email.regex", "no.such.rule"],
        "column": [None, "email"],
        "status": [None, "pending"],
        "batch": [None, batch],
        "since": [None, times[len(times) // 2]],
    }
    combos = [dict(zip(choices, c, strict=True)) for c in itertools.product(*choices.values())]
    combos += [  # the rest: a time window's end, a status but for pending, a column no record fails
        {"until": times[-1]},
        {"status": "rejected", "source": "orders"},
        {"column": "no_such_column", "status": "pending"},
        {"since": times[2], "until": times[-2], "rule": "email.regex"},
    ]
    checked = 0
    for picks in combos:
        flt = QuarantineFilter(**picks)
        want = [t["id"] for t in truth if _matches(flt, t)]
        checked += bool(want)
        for limit, offset, cap in (
            (3, 0, None),
            (3, 4, 2),
            (2, max(len(want) - 1, 0), 2),
            (5, len(want) + 2, None),
        ):
            page, total = list_records(demo_copy, flt, limit=limit, offset=offset, count_cap=cap)
            assert [r.id for r in page] == want[offset : offset + limit], (picks, offset)
            if cap is None or len(want) <= cap:
                assert total == len(want), (picks, limit, offset, cap)
            else:  # "more than cap"
                assert total > cap, (picks, limit, offset, cap)
        # keyset pages from the start and from inside the matches, not counted
        for after in (0, want[len(want) // 2] if want else 1):
            page, total = list_records(demo_copy, flt, limit=2, after=after, count=False)
            assert [r.id for r in page] == [i for i in want if i > after][:2], (picks, after)
            assert total == -1
    assert checked > 20  # most combinations match something
    assert any(t["status"] == "rejected" for t in truth)


def test_deep_cli_page_past_the_count_cap_still_offers_the_next_page(
    demo_copy: Store, project_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table counts no further than the cap; a page beyond it is still followed by a
    next page when more records are there (the old count stopped at the cap, so the
    table said there was none)."""
    from tidegate.cli import _quarantine_reads

    monkeypatch.setattr(_quarantine_reads, "COUNT_CAP", 3)
    ids = [r[0] for r in query(demo_copy, "SELECT id FROM quarantine WHERE status = 'pending'")]
    assert len(ids) > 8
    out = " ".join(
        tg_ok(demo_copy, project_root, "quarantine", "list", "-n", "2", "--page", "3").split()
    )
    assert "records 5-6 of more than 3" in out
    assert "next page: --page 4" in out
    last = " ".join(
        tg_ok(
            demo_copy, project_root, "quarantine", "list", "-n", "2", "--page", str(len(ids) // 2)
        ).split()
    )
    assert ("next page" in last) == (len(ids) % 2 == 1)


@pytest.mark.postgres
def test_postgres_store_indexes_the_queue_summary(pg_demo_template: str) -> None:
    """The web page's counts by source, status and rules read an index, not the rows."""
    with pg_database_copy(pg_demo_template) as store:
        rows = query(
            store,
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'quarantine' "
            "AND indexname = 'quarantine_summary'",
        )
    assert rows and "(source, status, rules)" in rows[0][0]


def test_summary_counts_each_rule_of_the_matching_records(
    demo_copy: Store, project_root: Path
) -> None:
    """The queue page's counts by source, rule and status under the filters it takes."""
    from collections import Counter

    from tidegate.store._quarantine import count_by_rule_and_status

    ids = [r[0] for r in query(demo_copy, "SELECT id FROM quarantine ORDER BY id")]
    tg_ok(demo_copy, project_root, "quarantine", "reject", str(ids[0]), "--reason", "t")
    truth = _truth(demo_copy)
    batch = sorted({t["batch"] for t in truth if t["source"] == "orders"})[0]
    for picks in (
        {},
        {"source": "orders"},
        {"rule": "email.regex"},
        {"rule": "email.regex", "source": "orders", "column": "email"},
        {"column": "email", "batch": batch},
        {"rule": "no.such.rule"},
    ):
        flt = QuarantineFilter(**picks)
        want = Counter(
            (t["source"], rule, t["status"])
            for t in truth
            if _matches(flt, t)
            for rule in t["rules"]
        )
        got = {(s, r, st): n for s, r, st, n in count_by_rule_and_status(demo_copy, flt)}
        assert got == dict(want), picks
