"""Real files through the real engine, read in chunks of every size: the target rows,
the quarantine entries (same record numbers) and the audit counts are those of the
same file read in one chunk, on both stores, with a quoted field spanning lines split
by a chunk boundary, ragged rows, a key repeated across chunks and a held batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tidegate import Pipeline, contract_from_dict, open_store
from tidegate.store import Store, transaction
from tidegate.store._staging import QUARANTINE_STAGING, staging_table

CSV = (
    "order_id,amount,status,note\r\n"
    '1,10.5,new,"plain"\r\n'
    '2,3,paid,"a note\r\nthat spans\r\nthree lines"\r\n'
    "3,7,lost,x\r\n"
    "4,8,new\r\n"  # ragged: 3 fields
    "\r\n"
    '5,9,paid,"quote ""inside"" it"\r\n'
    '1,10.5,new,"plain"\r\n'  # an exact repeat of record 2's key (line 2), far on
    '6,1,new,"another\nmultiline"\r\n'
    "2,99,paid,y\r\n"  # key 2 again with other values
    "7,2,new,z\r\n"
)

CONTRACT = {
    "source": "orders",
    "version": 1,
    "primary_key": ["order_id"],
    "columns": {
        "order_id": {"type": "int64"},
        "amount": {"type": "float64", "checks": [{"ge": 0}]},
        "status": {"type": "string", "checks": [{"isin": ["new", "paid"]}]},
        "note": {"type": "string", "nullable": True},
    },
    "policy": {"max_quarantine_ratio": 1.0},
}

CHUNK_SIZES: list[int | str] = [1, 3, "1B", "40B", 1000]


def snapshot(store: Store) -> dict[str, Any]:
    with transaction(store) as con:
        target = con.execute(
            "SELECT order_id, amount, status, note, _tidegate_record FROM orders "
            "ORDER BY _tidegate_record"
        ).fetchall()
        quarantine = con.execute(
            "SELECT record, raw, normalized, errors, rules FROM quarantine ORDER BY record, raw"
        ).fetchall()
        details = [
            json.loads(d)
            for (d,) in con.execute(
                "SELECT detail FROM audit WHERE event LIKE 'batch_%' ORDER BY seq"
            ).fetchall()
        ]
    keep = ("rows_in", "loaded", "quarantined", "duplicates", "failures", "held", "updated")
    return {
        "target": [tuple(str(v) for v in r) for r in target],
        "quarantine": quarantine,
        "audit": [{k: d.get(k) for k in keep} for d in details],
    }


def ingest(store: Store, path: Path, chunk_size: int | str | None, **policy: Any) -> Any:
    contract = contract_from_dict({**CONTRACT, "policy": {**CONTRACT["policy"], **policy}})
    return Pipeline(source=str(path), contract=contract, store=store, chunk_size=chunk_size).run()


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes(CSV.encode())
    return path


def one_piece(tmp_path: Path, path: Path, **policy: Any) -> dict[str, Any]:
    store = open_store(tmp_path / "one-piece.duckdb")
    ingest(store, path, "64MB", **policy)
    return snapshot(store)


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_any_chunk_size_gives_the_one_piece_result(
    store: Store, tmp_path: Path, orders_csv: Path, chunk_size: int | str
) -> None:
    result = ingest(store, orders_csv, chunk_size)
    (outcome,) = result.outcomes
    counts = (outcome.rows_in, outcome.loaded, outcome.quarantined, outcome.duplicates)
    assert counts == (9, 5, 3, 1)
    got = snapshot(store)
    assert got == one_piece(tmp_path, orders_csv)
    assert [r[0] for r in got["quarantine"]] == [6, 7, 13]  # line numbers as in the file
    assert got["target"][1][3] == "a note\r\nthat spans\r\nthree lines"


@pytest.mark.parametrize("chunk_size", ["40B"])
def test_a_held_file_of_many_chunks_loads_nothing(
    store: Store, tmp_path: Path, orders_csv: Path, chunk_size: int | str
) -> None:
    (outcome,) = ingest(store, orders_csv, chunk_size, max_quarantine_ratio=0.1).outcomes
    assert outcome.event == "batch_held" and outcome.loaded == 0
    got = snapshot(store)
    assert got["target"] == []
    assert got == one_piece(tmp_path, orders_csv, max_quarantine_ratio=0.1)


def test_a_file_committed_before_is_skipped_after_one_read_of_its_bytes(
    tmp_path: Path, orders_csv: Path
) -> None:
    store = open_store(tmp_path / "s.duckdb")
    ingest(store, orders_csv, 2)
    again = ingest(store, orders_csv, 2)
    assert [o.event for o in again.outcomes] == ["batch_skipped"]
    copy = tmp_path / "copy.csv"  # the same content under a new name: read, then skipped
    copy.write_bytes(orders_csv.read_bytes())
    third = ingest(store, tmp_path / "*.csv", 2)
    assert [o.event for o in third.outcomes] == ["batch_skipped", "batch_skipped"]
    assert snapshot(store)["target"] == snapshot(store)["target"]


def test_a_file_unreadable_deep_inside_is_one_file_level_entry(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    good = "".join(f"{i},1,new,n\n" for i in range(1, 2000))
    path.write_bytes(("order_id,amount,status,note\n" + good).encode() + b"9999,1,new,\xff\n")
    store = open_store(tmp_path / "s.duckdb")
    contract = contract_from_dict(CONTRACT)
    (outcome,) = ingest(store, path, 100).outcomes
    assert outcome.event == "file_rejected"
    assert "line 2001" in (outcome.reason or "")
    with transaction(store) as con:
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(1,)]
        names = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        tables = {r[0] for r in names}
        for table in tables & {"orders", QUARANTINE_STAGING, staging_table(contract)}:
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchall() == [(0,)], table


def test_tidegate_run_reads_a_file_in_chunks_through_the_prefect_flow(
    tmp_path: Path, orders_csv: Path, prefect_api: str
) -> None:
    """`tidegate run` with `chunk_size` in the pipeline file: the flow's stage, publish
    and monitor tasks, each chunk staged, one batch published; the same as one chunk."""
    import yaml
    from typer.testing import CliRunner

    from tidegate.cli import app

    store = open_store(tmp_path / "flow.duckdb")

    project = tmp_path / "project"
    (project / "schemas").mkdir(parents=True)
    (project / "pipelines").mkdir()
    (project / "schemas" / "orders.yaml").write_text(yaml.safe_dump(CONTRACT, sort_keys=False))
    source = {"kind": "file", "path": str(orders_csv), "chunk_size": 2}
    pipeline = {
        "name": "orders",
        "source": source,
        "contract": "schemas/orders.yaml",
        "allowed_paths": [str(orders_csv.parent)],  # the file lies outside the project
    }
    (project / "pipelines" / "orders.yaml").write_text(yaml.safe_dump(pipeline))
    result = CliRunner().invoke(
        app, ["run", "orders", "--project", str(project), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    got = snapshot(store)
    assert got == one_piece(tmp_path, orders_csv)
    with transaction(store) as con:
        (detail,) = con.execute(
            "SELECT detail FROM audit WHERE event = 'batch_committed'"
        ).fetchall()
        assert con.execute("SELECT count(*) FROM profiles").fetchall() == [(1,)]
    assert json.loads(detail[0])["chunks"] == 5
