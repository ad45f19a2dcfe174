"""A value no store can hold (a NUL character, from a JSON ``\\u0000`` or a Parquet
string) is one record's quarantine entry, found before the store, on both stores alike:
the rest of the file loads, the run goes on, the entry can be listed and replayed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

import tidegate
from helpers import make_contract, query
from store_backends import store_arg
from tidegate.review import edit_records, replay_records
from tidegate.store import Store
from tidegate.store._quarantine import QuarantineFilter, list_records

ROWS = [
    {"order_id": str(i), "status": "shipped", "amount": "1.00", "order_date": "2024-01-02"}
    for i in range(1, 6)
]


def _rows_with_nul() -> list[dict[str, str]]:
    rows = [dict(r) for r in ROWS]
    rows[2]["status"] = "ship\u0000ped"
    return rows


def _write(tmp_path: Path, kind: str) -> Path:
    rows = _rows_with_nul()
    if kind == "jsonl":
        path = tmp_path / "orders.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        assert "\\u0000" in path.read_text()
    else:
        path = tmp_path / "orders.parquet"
        pl.DataFrame(rows).write_parquet(path)
    return path


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_a_nul_in_a_string_is_a_quarantine_entry_and_the_rest_loads(
    store: Store, tmp_path: Path, kind: str
) -> None:
    contract = make_contract(
        columns={
            "order_id": {"type": "int64", "nullable": False},
            "status": {"type": "string", "nullable": False},  # no check that would catch it
            "amount": {"type": "decimal(12,2)"},
            "order_date": {"type": "date"},
        }
    )
    result = tidegate.Pipeline(source=_write(tmp_path, kind), contract=contract, store=store).run()
    (outcome,) = result.outcomes
    assert (outcome.event, outcome.rows_in, outcome.loaded, outcome.quarantined) == (
        "batch_committed",
        5,
        4,
        1,
    )
    assert query(store, "SELECT order_id FROM orders ORDER BY order_id") == [
        (1,),
        (2,),
        (4,),
        (5,),
    ]
    ((rules, raw, errors),) = query(store, "SELECT rules, raw, errors FROM quarantine")
    assert rules == "status.unstorable"  # one reason: not also status.not_null
    assert json.loads(raw)["status"] == "ship\u0000ped"  # the record as read, escaped
    (error,) = json.loads(errors)
    assert error["column"] == "status" and error["value"] == "ship\\x00ped"
    assert "a NUL character (\\x00), which PostgreSQL cannot store" in error["message"]
    assert error["message"].startswith("status ")
    # the review queue's queries read `errors` as JSON (jsonb on PostgreSQL)
    listed, _ = list_records(store, QuarantineFilter(column="status"))
    assert [r.rules for r in listed] == [("status.unstorable",)]
    # replayed as it is: still failing, with the same reason, no crash
    contracts = {contract.source: contract}
    (record_id,) = [r.id for r in listed]
    again = replay_records(store, [record_id], contracts, actor="ann")
    assert (again.loaded, again.still_failing) == (0, 1)
    # edited, it loads
    edit_records(store, {record_id: (None, {"status": "shipped"})}, contracts, actor="ann")
    fixed = replay_records(store, [record_id], contracts, actor="ann")
    assert fixed.loaded == 1
    assert query(store, "SELECT count(*) FROM orders") == [(5,)]


def test_a_nul_in_a_column_with_checks_is_reported_once(store: Store) -> None:
    """A NUL value is null from the check stage on: `status.isin` does not fire on it too."""
    rows = _rows_with_nul()
    result = tidegate.Pipeline(source=rows, contract=make_contract(), store=store).run()
    assert [(o.loaded, o.quarantined) for o in result.outcomes] == [(4, 1)]
    assert query(store, "SELECT record, rules FROM quarantine") == [(3, "status.unstorable")]


def test_the_cli_run_goes_on_past_a_nul(store: Store, tmp_path: Path, prefect_api: str) -> None:
    """`tidegate run` on both stores: a file with a NUL loads its other rows, the next file
    of the glob is read too; over the monitor's threshold the run exits 3, no traceback."""
    root = tmp_path / "p"
    (root / "schemas").mkdir(parents=True)
    (root / "pipelines").mkdir()
    (root / "data").mkdir()
    contract = {
        "source": "notes",
        "version": 1,
        "primary_key": ["id"],
        "columns": {"id": {"type": "int64", "nullable": False}, "text": {"type": "string"}},
    }
    (root / "schemas" / "notes.yaml").write_text(yaml.safe_dump(contract))
    pipeline = {
        "name": "notes",
        "source": {"kind": "file", "path": "data/*.jsonl", "format": "jsonl"},
        "contract": "schemas/notes.yaml",
        "monitor": {"max_quarantine_ratio": 0.1},
    }
    (root / "pipelines" / "notes.yaml").write_text(yaml.safe_dump(pipeline))
    first = [{"id": 1, "text": "a"}, {"id": 2, "text": "a\u0000b"}, {"id": 3, "text": "c"}]
    (root / "data" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
    (root / "data" / "b.jsonl").write_text(json.dumps({"id": 4, "text": "d"}) + "\n")
    tidegate_cli = Path(sys.executable).with_name("tidegate")
    args = [str(tidegate_cli), "run", "notes", "--project", str(root), "--store", store_arg(store)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)  # a real process
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == tidegate.EXIT_DATA_HELD, out
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "1 batch over the quarantine threshold (notes: a.jsonl)" in out
    assert query(store, "SELECT id FROM notes ORDER BY id") == [(1,), (3,), (4,)]
    assert query(store, "SELECT record, rules FROM quarantine") == [(2, "text.unstorable")]
    committed = query(store, "SELECT count(*) FROM audit WHERE event = 'batch_committed'")
    assert committed == [(2,)]
    # the next run has nothing new to do: it is not blocked on the same file
    again = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert again.returncode == tidegate.EXIT_OK, again.stdout + again.stderr
