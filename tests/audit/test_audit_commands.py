"""`tidegate audit list|show|sql|trace|checkpoint|verify` on a store built by real flow runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from helpers import open_pii, query, scalar
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store
from tidegate.store._review_audit import record_details

pytestmark = pytest.mark.e2e
runner = CliRunner()


def audit(store: Store, project: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(
        app, ["audit", *args, "--store", store_arg(store), "--project", str(project)]
    )
    assert result.exit_code == code, result.output
    return result.output


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---- list ------------------------------------------------------------------------------


def test_list_filters_by_source_event_and_actor(audit_store: Store, project_root: Path) -> None:
    out = audit(
        audit_store,
        project_root,
        "list",
        "-s",
        "orders",
        "-e",
        "record_rejected",
        "--actor",
        "bob",
        "-f",
        "json",
        "-n",
        "100",
    )
    rows = jsonl(out)
    expected = scalar(
        audit_store,
        "SELECT count(*) FROM audit WHERE source = 'orders' AND event = 'record_rejected' "
        "AND actor = 'bob'",
    )
    assert len(rows) == expected >= 2
    assert {(r["source"], r["event"], r["actor"]) for r in rows} == {
        ("orders", "record_rejected", "bob")
    }
    assert all(isinstance(r["detail"], dict) and record_details(r["detail"]) for r in rows)


def test_list_several_events_and_a_batch(audit_store: Store, project_root: Path) -> None:
    batch = scalar(audit_store, "SELECT batch_id FROM audit WHERE event = 'record_replayed'")
    rows = jsonl(
        audit(
            audit_store,
            project_root,
            "list",
            "--batch",
            batch,
            "-e",
            "batch_committed,record_replayed",
            "-f",
            "json",
        )
    )
    assert [r["event"] for r in rows] == ["batch_committed", "record_replayed"]
    assert {r["batch_id"] for r in rows} == {batch}


def test_list_since_until_on_at(audit_store: Store, project_root: Path) -> None:
    ats = [a for (a,) in query(audit_store, 'SELECT "at" FROM audit ORDER BY seq')]
    lower, upper = ats[3], ats[10]
    rows = jsonl(
        audit(audit_store, project_root, "list", "--since", lower, "--until", upper, "-f", "json")
    )
    assert rows and all(lower <= r["at"] < upper for r in rows)
    assert len(rows) == sum(1 for a in ats if lower <= a < upper)
    assert jsonl(audit(audit_store, project_root, "list", "--since", "1h", "-f", "json"))
    assert audit(audit_store, project_root, "list", "--until", "2000-01-01", "-f", "json") == ""


def test_list_pages_newest_first_and_csv(audit_store: Store, project_root: Path) -> None:
    total = scalar(audit_store, "SELECT count(*) FROM audit")
    page1 = jsonl(audit(audit_store, project_root, "list", "-n", "5", "-f", "json"))
    page2 = jsonl(audit(audit_store, project_root, "list", "-n", "5", "--page", "2", "-f", "json"))
    assert [r["seq"] for r in page1] == list(range(total - 4, total + 1))
    assert [r["seq"] for r in page2] == list(range(total - 9, total - 4))
    oldest = jsonl(
        audit(audit_store, project_root, "list", "-n", "3", "--oldest-first", "-f", "json")
    )
    assert [r["seq"] for r in oldest] == [1, 2, 3]
    rows = list(
        csv.DictReader(
            audit(audit_store, project_root, "list", "-n", "4", "-f", "csv").splitlines()
        )
    )
    assert len(rows) == 4 and set(rows[0]) >= {"seq", "at", "event", "detail", "hash"}
    assert json.loads(rows[0]["detail"]) is not None
    table = audit(audit_store, project_root, "list", "-n", "3")
    assert f"3 of {total} matching entries" in " ".join(table.split())


def test_list_refuses_bad_values(audit_store: Store, project_root: Path) -> None:
    out = audit(audit_store, project_root, "list", "--since", "yesterday", code=2)
    assert "'yesterday'" in out and "2026-11-24" in out
    out = audit(audit_store, project_root, "list", "--since", "2d", "--until", "3d", code=2)
    assert "is not before" in out
    assert "'xml'" in audit(audit_store, project_root, "list", "-f", "xml", code=2)


# ---- show ------------------------------------------------------------------------------


def test_show_one_entry_by_seq(audit_store: Store, project_root: Path) -> None:
    seq = scalar(audit_store, "SELECT min(seq) FROM audit WHERE event = 'batch_committed'")
    out = audit(audit_store, project_root, "show", str(seq))
    assert f"seq {seq}" in out and "batch_committed" in out
    assert '"normalized"' in out and '"rows_in"' in out  # the detail, pretty-printed
    (entry,) = jsonl(audit(audit_store, project_root, "show", str(seq), "-f", "json"))
    assert entry["seq"] == seq and entry["detail"]["contract"]["version"] == 1


def test_show_every_entry_of_a_batch_by_id_or_prefix(
    audit_store: Store, project_root: Path
) -> None:
    batch = scalar(audit_store, "SELECT batch_id FROM audit WHERE event = 'record_replayed'")
    expected = [
        s
        for (s,) in query(
            audit_store, "SELECT seq FROM audit WHERE batch_id = ? ORDER BY seq", [batch]
        )
    ]
    for target in (batch, batch[:-3]):
        rows = jsonl(audit(audit_store, project_root, "show", target, "-f", "json"))
        assert [r["seq"] for r in rows] == expected
    assert "ambiguous" in audit(audit_store, project_root, "show", "orders-", code=2)
    out = audit(audit_store, project_root, "show", "99999", code=2)
    assert "seq 99999" in out and "tidegate audit list" in " ".join(out.split())
    assert "'nope'" in audit(audit_store, project_root, "show", "nope", code=2)


# ---- sql -------------------------------------------------------------------------------


def test_sql_reads_every_table_in_every_format(
    duckdb_audit_store: Path, project_root: Path
) -> None:
    """DuckDB's own syntax (FROM first, DESCRIBE) works in `audit sql` on a DuckDB store."""
    audit_store = duckdb_audit_store
    sql = "SELECT event, count(*) AS n FROM audit GROUP BY event ORDER BY event"
    rows = jsonl(audit(audit_store, project_root, "sql", sql, "-f", "json"))
    assert {r["event"]: r["n"] for r in rows} == dict(
        query(audit_store, "SELECT event, count(*) FROM audit GROUP BY event")
    )
    out = audit(
        audit_store,
        project_root,
        "sql",
        "FROM quarantine SELECT id, rules ORDER BY id",
        "-f",
        "csv",
    )
    assert out.splitlines()[0] == "id,rules"
    assert "order_id" in audit(audit_store, project_root, "sql", "DESCRIBE orders")
    joined = (
        "SELECT count(*) AS n FROM orders o JOIN checkpoints c ON c.batch_id = o._tidegate_batch_id"
    )
    assert jsonl(audit(audit_store, project_root, "sql", joined, "-f", "json"))[0]["n"] > 0


def test_sql_limit_says_rows_were_cut(audit_store: Store, project_root: Path) -> None:
    result = runner.invoke(
        app,
        [
            "audit",
            "sql",
            "SELECT * FROM audit",
            "--limit",
            "2",
            "-f",
            "json",
            "--store",
            store_arg(audit_store),
        ],
    )
    assert result.exit_code == 0
    assert len(jsonl(result.stdout)) == 2 and "raise --limit" in result.stderr


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO audit SELECT * FROM audit",
        "UPDATE audit SET actor = 'mallory'",
        "DELETE FROM audit",
        "DROP TABLE audit",
        "ATTACH 'other.duckdb' AS other",
        "COPY audit TO 'leak.csv'",
        "PRAGMA enable_profiling",
        "SELECT 1; DELETE FROM audit",
        "SELECT nextval('quarantine_id_seq')",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_sql_refuses_anything_but_a_read(
    store_copy: Path, project_root: Path, statement: str
) -> None:
    before = query(store_copy, "SELECT seq, hash FROM audit ORDER BY seq")
    seq_before = query(store_copy, "SELECT max(id) FROM quarantine")
    out = " ".join(audit(store_copy, project_root, "sql", statement, code=2).split())
    assert "error:" in out
    assert query(store_copy, "SELECT seq, hash FROM audit ORDER BY seq") == before
    assert query(store_copy, "SELECT max(id) FROM quarantine") == seq_before
    assert not Path("leak.csv").exists()


# ---- trace -----------------------------------------------------------------------------


def trace(store: Store, project: Path, source: str, key: str, code: int = 0) -> dict:
    return json.loads(audit(store, project, "trace", source, key, "-f", "json", code=code))


def test_trace_a_row_loaded_straight_from_its_file(audit_store: Store, project_root: Path) -> None:
    t = trace(audit_store, project_root, "orders", "1001")
    (row,) = t["loaded"]
    assert row["order_id"] == 1001 and row["_tidegate_record"] == 2
    origin = t["batches"][row["_tidegate_batch_id"]]
    assert origin["location"].endswith("orders_2024-01.csv")
    assert origin["contract_version"] == 1 and len(origin["contract_hash"]) == 64
    assert origin["normalized"]["order_date.date_format"] >= 1
    assert t["quarantine"] == [] and t["reviews"] == []


def test_trace_a_record_fixed_in_review_and_replayed(
    audit_store: Store, project_root: Path
) -> None:
    t = trace(audit_store, project_root, "orders", "order_id=2008")
    (row,) = t["loaded"]
    assert row["email"] == "hank@example.com"
    (q,) = t["quarantine"]
    assert q["status"] == "replayed" and q["rules"] == "email.regex"
    assert q["location"].endswith("orders_2024-02.csv") and q["record"] == row["_tidegate_record"]
    assert q["headers_renamed"]["OrderID"] == "order_id"  # February's header drift
    assert [r["event"] for r in t["reviews"]] == ["record_edited", "record_replayed"]
    assert t["reviews"][0]["actor"] == "alice"
    assert t["reviews"][0]["detail"]["after"]["email"]["pii"] is True  # encrypted in the audit
    assert open_pii(audit_store, t["reviews"][0]["detail"])["after"] == {
        "email": "hank@example.com"
    }
    assert t["batches"][row["_tidegate_batch_id"]]["normalized"]["_header.rename"] == 7
    table = audit(audit_store, project_root, "trace", "orders", "2008")
    assert "record_replayed" in table and "orders_2024-02.csv" in table


def test_trace_finds_edited_rejected_and_ragged_records(
    audit_store: Store, project_root: Path
) -> None:
    edited = trace(audit_store, project_root, "orders", "1099")
    assert edited["loaded"] == [] and edited["quarantine"][0]["matched_on"] == "edited"
    assert [r["event"] for r in edited["reviews"]] == ["record_edited"]
    rejected = trace(audit_store, project_root, "orders", "1012")
    assert rejected["quarantine"][0]["status"] == "rejected"
    assert rejected["reviews"][0]["detail"]["reason"] == "amount unknowable"
    ragged = trace(audit_store, project_root, "orders", "1016")
    assert ragged["quarantine"][0]["matched_on"] == "raw line"
    assert ragged["quarantine"][0]["rules"] == "_row.ragged"


def test_trace_reprocessed_customer_points_at_the_new_batch(
    audit_store: Store, project_root: Path
) -> None:
    t = trace(audit_store, project_root, "customers", "501")
    (row,) = t["loaded"]
    assert t["batches"][row["_tidegate_batch_id"]]["event"] == "batch_reprocessed"


def test_trace_says_what_is_wrong(audit_store: Store, project_root: Path) -> None:
    missing = trace(audit_store, project_root, "orders", "987654", code=1)
    assert missing["found"] is False
    out = " ".join(audit(audit_store, project_root, "trace", "ordrs", "1", code=2).split())
    assert "'ordrs'" in out and "orders" in out
    out = " ".join(audit(audit_store, project_root, "trace", "orders", "id=1,x=2", code=2).split())
    assert "order_id=VALUE" in out


# ---- checkpoint and verify --against ------------------------------------------------------


def test_checkpoint_then_verify_against_it(
    store_copy: Path, project_root: Path, tmp_path: Path
) -> None:
    from tidegate.audit import read_checkpoint

    cp = tmp_path / "head.note"
    audit(store_copy, project_root, "checkpoint", "-o", str(cp))
    read = read_checkpoint(cp)  # a signed note: entry count and head hash
    n, head = (
        scalar(store_copy, "SELECT count(*) FROM audit"),
        query(store_copy, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")[0],
    )
    assert (read.entries, read.head_seq, read.head_hash) == (n, *head)
    assert "extends checkpoint" in audit(store_copy, project_root, "verify", "--against", str(cp))
    con = duckdb.connect(str(store_copy))
    con.execute("DELETE FROM audit WHERE seq = ?", [n])
    con.close()
    plain = audit(store_copy, project_root, "verify")  # the chain alone cannot see it
    assert f"{n - 1} entries verified" in plain
    out = " ".join(audit(store_copy, project_root, "verify", "--against", str(cp), code=1).split())
    assert "truncated" in out and f"seq {n}" in out


def test_verify_against_a_bad_checkpoint_file(
    audit_store: Store, project_root: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = " ".join(
        audit(audit_store, project_root, "verify", "--against", str(bad), code=2).split()
    )
    assert str(bad) in out and "tidegate audit checkpoint" in out
    out = audit(
        audit_store, project_root, "verify", "--against", str(tmp_path / "none.json"), code=2
    )
    assert "no checkpoint file" in " ".join(out.split())
