"""The review queue at scale: keyset pages, the rules side table and its migration, on
both stores (a store built by the real demo flow)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import copy_store, query, tg_ok
from store_backends import drop_pg_store, make_store, store_arg
from tidegate.cli import app
from tidegate.store import PostgresStore, Store
from tidegate.store._connect import transaction
from tidegate.store._quarantine import QuarantineFilter, list_records

pytestmark = pytest.mark.e2e
runner = CliRunner()


tg = tg_ok


def _truth(store: Store) -> list[dict[str, Any]]:
    """Every quarantine record with the rules and columns its errors JSON names."""
    rows = query(store, "SELECT id, source, status, batch_id, errors, created_at FROM quarantine")
    out = []
    for id_, source, status, batch, errors, created in rows:
        parsed = json.loads(errors)
        out.append(
            {
                "id": id_,
                "source": source,
                "status": status,
                "batch": batch,
                "rules": {e["rule"] for e in parsed},
                "columns": {e["column"] for e in parsed if e.get("column")},
                "created_at": created,
            }
        )
    return out


def _side_rows(store: Store) -> list[tuple[Any, ...]]:
    return sorted(
        query(store, 'SELECT quarantine_id, rule, "column" FROM quarantine_rules'),
        key=lambda r: (r[0], r[1], r[2] or ""),
    )


def _expected_side_rows(store: Store) -> list[tuple[Any, ...]]:
    rows = query(store, "SELECT id, errors FROM quarantine")
    return sorted(
        ((i, e["rule"], e.get("column")) for i, errors in rows for e in json.loads(errors)),
        key=lambda r: (r[0], r[1], r[2] or ""),
    )


def _walk(store: Store, flt: QuarantineFilter, limit: int) -> list[int]:
    seen: list[int] = []
    after: int | None = None
    while True:
        page, total = list_records(store, flt, limit=limit, after=after, count=after is None)
        assert total == -1 if after is not None else total >= 0
        if not page:
            return seen
        seen += [r.id for r in page]
        after = page[-1].id


def test_keyset_pages_return_every_match_once_under_every_filter(demo_copy: Store) -> None:
    truth = _truth(demo_copy)
    batch = sorted({t["batch"] for t in truth if t["source"] == "orders"})[0]
    middle = sorted(t["created_at"] for t in truth)[len(truth) // 2]
    choices: dict[str, list[Any]] = {
        "source": [None, "orders", "customers"],
        "rule": [None, "email.regex", "no.such.rule"],
        "column": [None, "email"],
        "status": [None, "pending"],
        "batch": [None, batch],
        "since": [None, middle],
    }
    for combo in itertools.product(*choices.values()):
        picks = dict(zip(choices, combo, strict=True))
        flt = QuarantineFilter(**picks)
        want = [
            t["id"]
            for t in sorted(truth, key=lambda t: t["id"])
            if (not flt.source or t["source"] == flt.source)
            and (not flt.rule or flt.rule in t["rules"])
            and (not flt.column or flt.column in t["columns"])
            and (not flt.status or t["status"] == flt.status)
            and (not flt.batch or t["batch"] == flt.batch)
            and (not flt.since or t["created_at"] >= flt.since)
        ]
        for limit in (1, 3, 50):
            assert _walk(demo_copy, flt, limit) == want, (picks, limit)
        assert list_records(demo_copy, flt, limit=1)[1] == len(want), picks


def test_cli_after_walks_the_pending_queue_once(demo_copy: Store, project_root: Path) -> None:
    pending = [r[0] for r in query(demo_copy, "SELECT id FROM quarantine WHERE status = 'pending'")]
    out = tg(demo_copy, project_root, "quarantine", "list", "--limit", "4")
    assert "--after" in out
    seen: list[int] = []
    after = "0"
    while True:
        lines = tg(
            demo_copy, project_root, "quarantine", "list", "-n", "4", "--after", after, "-f", "json"
        ).splitlines()
        if not lines:
            break
        seen += [json.loads(line)["id"] for line in lines]
        after = str(seen[-1])
    assert seen == sorted(pending) and len(set(seen)) == len(pending)
    table = tg(demo_copy, project_root, "quarantine", "list", "-n", "4", "--after", str(seen[3]))
    assert f"after id {seen[3]}; next page: --after {seen[7]}" in " ".join(table.split())
    both = runner.invoke(
        app,
        ["quarantine", "list", "--page", "2", "--after", "3", "--store", store_arg(demo_copy)],
    )
    assert both.exit_code == 2 and "use one" in both.output


def test_side_table_follows_replay_reject_and_edit(demo_copy: Store, project_root: Path) -> None:
    assert _side_rows(demo_copy) == _expected_side_rows(demo_copy) != []
    email = query(
        demo_copy,
        "SELECT min(id) FROM quarantine WHERE source = 'orders' AND rules = 'email.regex'",
    )[0][0]
    others = [
        r[0]
        for r in query(
            demo_copy,
            "SELECT id FROM quarantine WHERE status = 'pending' AND id <> ? ORDER BY id",
            [email],
        )
    ]
    tg(demo_copy, project_root, "quarantine", "edit", str(email), "--set", "email=still-bad")
    tg(demo_copy, project_root, "quarantine", "replay", str(email))  # still fails: new errors
    tg(demo_copy, project_root, "quarantine", "reject", str(others[0]), "--reason", "test")
    assert _side_rows(demo_copy) == _expected_side_rows(demo_copy)
    pending = _walk(demo_copy, QuarantineFilter(status="pending"), 2)
    assert others[0] not in pending and email in pending
    rejected = _walk(demo_copy, QuarantineFilter(status="rejected", source="orders"), 2)
    assert (
        others[0] in rejected
        or query(demo_copy, "SELECT source FROM quarantine WHERE id = ?", [others[0]])[0][0]
        != "orders"
    )


def test_a_store_made_before_the_side_table_gets_it_on_init(
    demo_copy: Store, project_root: Path
) -> None:
    want = _expected_side_rows(demo_copy)
    with transaction(demo_copy) as con:  # the schema the previous tidegate made
        con.execute("DROP TABLE quarantine_rules")
    old_filter = QuarantineFilter(rule="email.regex", column="email")
    before = _walk(demo_copy, old_filter, 2)  # read-only: the JSON is searched instead
    assert before != []
    tg(demo_copy, project_root, "store", "init")
    assert _side_rows(demo_copy) == want
    assert _walk(demo_copy, old_filter, 2) == before


@pytest.mark.postgres
def test_store_copy_carries_the_side_table(demo_template: Path, tmp_path: Path) -> None:
    source = copy_store(demo_template, tmp_path / "demo")
    target = make_store("postgres", tmp_path)
    assert isinstance(target, PostgresStore)
    try:
        result = runner.invoke(app, ["store", "copy", "--store", str(source), "--to", target.url])
        assert result.exit_code == 0, result.output
        assert _side_rows(target) == _side_rows(source) == _expected_side_rows(target) != []
        flt = QuarantineFilter(rule="email.regex", status="pending")
        assert _walk(target, flt, 2) == _walk(source, flt, 2) != []
    finally:
        drop_pg_store(target)
