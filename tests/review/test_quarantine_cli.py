"""The review workflow from the command line, on a store built by the real demo flow."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import open_pii, query, scalar, tg_ok
from store_backends import store_arg
from tidegate.cli import app
from tidegate.errors import ReviewConflictError
from tidegate.review import contracts_by_source, edit_records
from tidegate.store import Store
from tidegate.store._review_audit import record_details

pytestmark = pytest.mark.e2e
runner = CliRunner()


@pytest.fixture
def store(demo_copy: Store) -> Store:
    """The demo's store (built by the real CLI and flow), on each backend."""
    return demo_copy


tg = tg_ok


def _email_record(store: Store) -> int:
    return int(
        scalar(
            store,
            "SELECT min(id) FROM quarantine WHERE source = 'orders' AND rules = 'email.regex'",
        )
    )


def test_list_filters_pages_and_formats(store: Store, project_root: Path) -> None:
    lines = tg(
        store, project_root, "quarantine", "list", "--rule", "email.regex", "--format", "json"
    ).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 5  # 4 in orders + 1 in customers (sample_data/README.md)
    assert all("email.regex" in r["rules"] for r in records)
    orders = tg(
        store,
        project_root,
        "quarantine",
        "list",
        "--source",
        "orders",
        "--column",
        "email",
        "-f",
        "csv",
    )
    rows = list(csv.DictReader(orders.splitlines()))
    assert len(rows) == 4 and {r["source"] for r in rows} == {"orders"}
    page2 = tg(
        store,
        project_root,
        "quarantine",
        "list",
        "--source",
        "orders",
        "--limit",
        "5",
        "--page",
        "2",
        "-f",
        "json",
    ).splitlines()
    first = tg(
        store,
        project_root,
        "quarantine",
        "list",
        "--source",
        "orders",
        "--limit",
        "5",
        "-f",
        "json",
    ).splitlines()
    assert len(page2) == 5 and not {json.loads(x)["id"] for x in page2} & {
        json.loads(x)["id"] for x in first
    }
    table = tg(store, project_root, "quarantine", "list", "--source", "orders", "--limit", "5")
    assert "of 18" in table and "--page 2" in table


def test_show_puts_raw_and_normalized_side_by_side(store: Store, project_root: Path) -> None:
    record_id = _email_record(store)
    out = tg(store, project_root, "quarantine", "show", str(record_id))
    assert "raw (as read)" in out and "normalized" in out
    assert "email.regex" in out and "b***@" in out and "bob@" not in out  # PII masked
    assert "bob@" in tg(store, project_root, "quarantine", "show", str(record_id), "--reveal")


def test_edit_then_replay_loads_once_and_audits(store: Store, project_root: Path) -> None:
    record_id = _email_record(store)
    order_id = json.loads(scalar(store, "SELECT raw FROM quarantine WHERE id = ?", [record_id]))[
        "order_id"
    ]
    before = scalar(store, "SELECT count(*) FROM orders")
    tg(
        store,
        project_root,
        "quarantine",
        "edit",
        str(record_id),
        "--set",
        "email=fixed@example.com",
    )
    raw_after_edit = json.loads(
        scalar(store, "SELECT raw FROM quarantine WHERE id = ?", [record_id])
    )
    assert raw_after_edit["email"] == "bob@"  # the raw record stays as read
    out = tg(store, project_root, "quarantine", "replay", str(record_id))
    assert "1 loaded" in out
    again = tg(store, project_root, "quarantine", "replay", str(record_id))
    assert "0 loaded" in again and "1 not pending" in again
    assert scalar(store, "SELECT count(*) FROM orders") == before + 1
    assert query(
        store, "SELECT email, _tidegate_record FROM orders WHERE order_id = ?", [int(order_id)]
    ) == [
        (
            "fixed@example.com",
            scalar(store, "SELECT record FROM quarantine WHERE id = ?", [record_id]),
        )
    ]
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "replayed"
    events = query(
        store, "SELECT event, actor, detail FROM audit WHERE event LIKE 'record_%' ORDER BY seq"
    )
    assert [(e, a) for e, a, _ in events] == [
        ("record_edited", "alice"),
        ("record_replayed", "alice"),
    ]
    edited = json.loads(events[0][2])
    assert "fixed@example.com" not in events[0][2]  # PII enters the audit encrypted
    edited = open_pii(store, edited)
    assert edited["before"] == {"email": "bob@"} and edited["after"] == {
        "email": "fixed@example.com"
    }
    assert record_details(json.loads(events[1][2]))[record_id]["outcome"] == "loaded"
    assert "intact" in tg(store, project_root, "audit", "verify")


def test_replay_that_still_fails_stays_pending_with_its_reasons(
    store: Store, project_root: Path
) -> None:
    record_id = _email_record(store)
    out = tg(store, project_root, "quarantine", "replay", str(record_id))
    assert "0 loaded" in out and "1 still failing" in out
    status, version, rules = query(
        store, "SELECT status, version, rules FROM quarantine WHERE id = ?", [record_id]
    )[0]
    assert (status, version, rules) == ("pending", 2, "email.regex")


def test_bulk_replay_by_filter_reports_a_summary(store: Store, project_root: Path) -> None:
    out = tg(
        store, project_root, "quarantine", "replay", "--source", "orders", "--rule", "email.regex"
    )
    assert "0 loaded" in out and "4 still failing" in out


def test_reject_needs_a_reason_and_is_audited(store: Store, project_root: Path) -> None:
    record_id = _email_record(store)
    refused = runner.invoke(
        app, ["quarantine", "reject", str(record_id), "--store", store_arg(store)]
    )
    assert refused.exit_code == 2 and "reason" in refused.output
    tg(
        store,
        project_root,
        "quarantine",
        "reject",
        str(record_id),
        "--reason",
        "test order, not real",
    )
    assert query(store, "SELECT status, reason FROM quarantine WHERE id = ?", [record_id]) == [
        ("rejected", "test order, not real")
    ]
    detail = json.loads(scalar(store, "SELECT detail FROM audit WHERE event = 'record_rejected'"))
    assert list(record_details(detail)) == [record_id]
    assert record_details(detail)[record_id]["reason"] == "test order, not real"


def test_export_fix_import_replay_round_trip(
    store: Store, project_root: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "orders.csv"
    tg(
        store,
        project_root,
        "quarantine",
        "export",
        "--source",
        "orders",
        "--rule",
        "email.regex",
        "-o",
        str(sheet),
    )
    rows = list(csv.DictReader(sheet.open()))
    assert len(rows) == 4
    for i, row in enumerate(rows):
        row["email"] = f"fixed{i}@example.com"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tg(store, project_root, "quarantine", "import", str(sheet), "--replay")
    assert "4 record(s) edited" in out and "4 loaded" in out
    assert scalar(store, "SELECT count(*) FROM orders WHERE email LIKE 'fixed%@example.com'") == 4


def test_import_is_all_or_nothing_with_a_line_by_line_report(
    store: Store, project_root: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "orders.csv"
    tg(store, project_root, "quarantine", "export", "--source", "orders", "-o", str(sheet))
    rows = list(csv.DictReader(sheet.open()))
    rows[0]["email"] = "good@example.com"  # a fine edit, on line 2
    rows[1]["rules"] = "nothing"  # a read-only column, line 3
    rows[2]["id"] = "999999"  # an id that does not exist, line 4
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0], "secret"])
        writer.writeheader()
        writer.writerows(rows)
    before = query(store, "SELECT id, version, edited FROM quarantine ORDER BY id")
    result = runner.invoke(
        app,
        [
            "quarantine",
            "import",
            str(sheet),
            "--store",
            store_arg(store),
            "--project",
            str(project_root),
        ],
    )
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert ":3: rules may not change" in out
    assert ":4: id 999999 does not exist" in out
    assert "'secret' may not be imported" in out
    assert "nothing was applied" in out
    assert query(store, "SELECT id, version, edited FROM quarantine ORDER BY id") == before


def test_two_reviewers_at_once_one_wins_the_other_gets_a_conflict(
    store: Store, project_root: Path
) -> None:
    record_id = _email_record(store)
    contracts = contracts_by_source(project_root)
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def act(who: str) -> None:
        barrier.wait()
        try:
            edit_records(
                store, {record_id: (1, {"email": f"{who}@example.com"})}, contracts, actor=who
            )
            outcomes[who] = "won"
        except ReviewConflictError as exc:
            outcomes[who] = str(exc)

    threads = [threading.Thread(target=act, args=(who,)) for who in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [w for w, o in outcomes.items() if o == "won"]
    assert len(winners) == 1
    loser = ({"alice", "bob"} - set(winners)).pop()
    assert f"changed by {winners[0]}" in outcomes[loser] and "version 2" in outcomes[loser]
    edited = json.loads(scalar(store, "SELECT edited FROM quarantine WHERE id = ?", [record_id]))
    assert edited == {"email": f"{winners[0]}@example.com"}
    assert scalar(store, "SELECT count(*) FROM audit WHERE event = 'record_edited'") == 1


def test_cli_edit_with_a_stale_version_is_refused(store: Store, project_root: Path) -> None:
    record_id = _email_record(store)
    tg(store, project_root, "quarantine", "edit", str(record_id), "--set", "email=a@example.com")
    result = runner.invoke(
        app,
        [
            "quarantine",
            "edit",
            str(record_id),
            "--set",
            "email=b@example.com",
            "--version",
            "1",
            "--store",
            str(store),
            "--project",
            str(project_root),
        ],
    )
    assert result.exit_code == 2 and "was changed by" in " ".join(result.output.split())


def test_a_ragged_row_can_be_rebuilt_by_edits_and_replayed(
    store: Store, project_root: Path
) -> None:
    record_id = int(scalar(store, "SELECT id FROM quarantine WHERE rules = '_row.ragged'"))
    values = {
        "order_id": "990001",
        "customer_id": "5",
        "status": "pending",
        "amount": "10.00",
        "order_date": "2024-01-02",
        "email": "r@example.com",
        "quantity": "1",
    }
    tg(
        store,
        project_root,
        "quarantine",
        "edit",
        str(record_id),
        *[a for k, v in values.items() for a in ("--set", f"{k}={v}")],
    )
    out = tg(store, project_root, "quarantine", "replay", str(record_id))
    assert "1 loaded" in out
    assert scalar(store, "SELECT count(*) FROM orders WHERE order_id = 990001") == 1


def test_file_level_entries_are_not_replayed_but_say_what_to_do(
    store: Store, project_root: Path
) -> None:
    record_id = int(
        scalar(store, "SELECT min(id) FROM quarantine WHERE rules = '_file.unreadable'")
    )
    out = " ".join(tg(store, project_root, "quarantine", "replay", str(record_id)).split())
    assert "1 file-level" in out and "--reprocess" in out
    assert scalar(store, "SELECT status FROM quarantine WHERE id = ?", [record_id]) == "pending"
