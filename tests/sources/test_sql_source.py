"""SqlSource against the real PostgreSQL and MariaDB on this machine, and SQLite
(the ``backend`` fixture comes from tests/sql_backends.py)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from helpers import process
from sql_backends import ROWS, Backend, require_service, service_answers, write_contract
from tidegate.contracts import load_contract
from tidegate.errors import SourceConfigError, SourceUnavailableError
from tidegate.sources import RECORD_COLUMN, RawBatch, SqlSource, source_from_config
from tidegate.store import commit_batch, transaction
from tidegate.store._cursors import last_cursor


def rows_of(batches: list[RawBatch]) -> list[dict[str, str | None]]:
    out: list[dict[str, str | None]] = []
    for batch in batches:
        out += batch.frame.drop(RECORD_COLUMN).to_dicts()
    return out


def test_reads_whole_table_as_strings(backend: Backend) -> None:
    backend.create_items()
    backend.insert(*ROWS)
    source = SqlSource("items", backend.url, table=backend.table)
    batches = [b for b in source.read() if isinstance(b, RawBatch)]
    assert len(batches) == 1
    frame = batches[0].frame
    assert frame.columns == ["id", "name", "amount", "updated_at", RECORD_COLUMN]
    assert all(str(dtype) == "String" for dtype in frame.drop(RECORD_COLUMN).dtypes)
    assert frame[RECORD_COLUMN].to_list() == [0, 1, 2, 3, 4]
    got = sorted(rows_of(batches), key=lambda r: int(r["id"] or 0))
    assert [r["id"] for r in got] == ["1", "2", "3", "4", "5"]
    assert got[3]["name"] is None
    assert float(got[0]["amount"] or "nan") == 10.5
    assert (got[0]["updated_at"] or "").replace("T", " ").startswith("2024-01-01 10:00:00")
    # unchanged content: the same batch key on the next read
    again = [b for b in source.read() if isinstance(b, RawBatch)]
    assert again[0].content_sha256 == batches[0].content_sha256


def test_incremental_chunks_keep_ties_and_move_watermark(backend: Backend, tmp_path: Path) -> None:
    backend.create_items()
    backend.insert(*ROWS)
    store = tmp_path / "store.duckdb"
    contract = load_contract(write_contract(tmp_path))

    def run() -> list[RawBatch]:
        done = []
        source = SqlSource(  # handed the last committed watermark, as the flow does
            "items",
            backend.url,
            table=backend.table,
            cursor="updated_at",
            chunk_size=2,
            watermark=last_cursor(store, "items", "updated_at"),
        )
        for raw in source.read():
            assert isinstance(raw, RawBatch)
            outcome = commit_batch(
                store,
                process(raw, contract),
                contract,
                cursor=(raw.cursor_column, raw.cursor_value),
            )
            assert outcome.event == "batch_committed", outcome
            done.append(raw)
        return done

    first = run()
    # chunk 1 would end between rows 2 and 3 (same cursor): the tie moves to chunk 2 whole
    assert [b.frame["id"].to_list() for b in first] == [["1"], ["2", "3"], ["4", "5"]]
    assert all(b.frame[RECORD_COLUMN].to_list()[0] == 0 for b in first)
    assert len({b.content_sha256 for b in first}) == 3
    watermark = last_cursor(store, "items", "updated_at")
    assert watermark is not None and watermark.startswith("2024-01-01 13:00:00")
    assert run() == []  # nothing new: nothing read

    backend.insert((6, "fay", "60.00", "2024-01-02 09:00:00"))
    backend.execute(
        f"UPDATE {backend.table} SET name = 'ANN', updated_at = '2024-01-02 10:00:00' WHERE id = 1"
    )
    second = run()
    assert rows_of(second) and [r["id"] for r in rows_of(second)] == ["6", "1"]
    with transaction(store) as con:
        target = con.execute("SELECT id, name FROM items ORDER BY id").fetchall()
        checkpoints = con.execute(
            "SELECT count(*), count(cursor_value) FROM checkpoints WHERE source = 'items'"
        ).fetchone()
    assert target == [(1, "ANN"), (2, "bob"), (3, "cy"), (4, None), (5, "eve"), (6, "fay")]
    assert checkpoints == (4, 4)


def test_integer_cursor_and_query(backend: Backend, tmp_path: Path) -> None:
    backend.create_items()
    backend.insert(*ROWS)
    store = tmp_path / "store.duckdb"
    contract = load_contract(write_contract(tmp_path))
    query = f"SELECT id, name, amount, updated_at FROM {backend.table} WHERE id <> 3;"

    def source() -> SqlSource:  # handed the last committed watermark, as the flow does
        return SqlSource(
            "items",
            backend.url,
            query=query,
            cursor="id",
            chunk_size=3,
            watermark=last_cursor(store, "items", "id"),
        )

    batches = list(source().read())
    assert [b.frame["id"].to_list() for b in batches if isinstance(b, RawBatch)] == [
        ["1", "2", "4"],
        ["5"],
    ]
    first = batches[0]
    assert isinstance(first, RawBatch) and first.cursor_value == "4"
    commit_batch(  # the second one never commits
        store, process(first, contract), contract, cursor=(first.cursor_column, first.cursor_value)
    )
    assert last_cursor(store, "items") == "4"
    again = [b for b in source().read() if isinstance(b, RawBatch)]
    assert [b.frame["id"].to_list() for b in again] == [["5"]]
    assert again[0].content_sha256 == batches[1].content_sha256  # same window, same key


def test_config_kind_sql_with_env_interpolation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "data" / "src.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (id INTEGER, v TEXT)")
        con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    monkeypatch.setenv("TG_TEST_DB_DIR", "data")
    config = {"kind": "sql", "url": "sqlite://${TG_TEST_DB_DIR}/src.sqlite", "table": "t"}
    source = source_from_config("t", {**config, "cursor": "id"}, tmp_path)
    assert isinstance(source, SqlSource)
    assert source.watermark is None  # no watermark handed in: from the first row
    batches = [b for b in source.read() if isinstance(b, RawBatch)]
    assert batches[0].frame["v"].to_list() == ["a", "b"]
    assert batches[0].cursor_column == "id" and batches[0].cursor_value == "2"
    after = source_from_config("t", {**config, "cursor": "id"}, tmp_path, watermark="1")
    assert isinstance(after, SqlSource) and after.watermark == "1"
    assert [b.frame["v"].to_list() for b in after.read() if isinstance(b, RawBatch)] == [["b"]]

    monkeypatch.delenv("TG_TEST_DB_DIR")
    with pytest.raises(SourceConfigError, match="TG_TEST_DB_DIR is not set"):
        source_from_config("t", config, tmp_path)
    bad = [
        ({**config, "url": "oracle://x@h/db"}, "valid: postgresql://"),
        ({"kind": "sql", "url": "sqlite:///nope.db", "table": "t"}, "does not exist"),
        ({**config, "query": "SELECT 1"}, "exactly one of"),
        ({**config, "chunk_size": 0}, "chunk_size"),
        ({**config, "chunk_size": "10"}, "whole number"),
        ({**config, "table_name": "t"}, "unknown option 'table_name'"),
        ({"kind": "sql", "table": "t"}, "`url` is missing"),
    ]
    monkeypatch.setenv("TG_TEST_DB_DIR", "data")
    for options, message in bad:
        with pytest.raises(SourceConfigError, match=message):
            source_from_config("t", options, tmp_path)


def test_missing_table_is_a_config_error(tmp_path: Path) -> None:
    db = tmp_path / "src.sqlite"
    sqlite3.connect(db).close()
    source = SqlSource("t", f"sqlite://{db}", table="missing_table")
    with pytest.raises(SourceConfigError, match="missing_table"):
        list(source.read())


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("postgresql://alice:s3cr3t-pw@127.0.0.1:5999/test", "postgres"),
        ("mysql://root:s3cr3t-pw@127.0.0.1:3999/test", "mariadb"),
        ("mariadb://root:s3cr3t-pw@127.0.0.1:3999/test", "mariadb"),
    ],
)
def test_unreachable_server_fails_fast_and_hides_password(url: str, kind: str) -> None:
    assert not service_answers("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]))
    source = SqlSource("t", url, table="t", cursor="id", watermark="7")
    assert "s3cr3t-pw" not in repr(source)
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError) as info:
        list(source.read())
    # A hang guard, not a speed check: a refused connection is not retried for minutes.
    assert time.monotonic() - started < 120
    text = str(info.value)
    assert "s3cr3t-pw" not in text and ":***@127.0.0.1" in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.postgres
def test_wrong_password_hides_password(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    # trust auth accepts any password; a missing database still echoes the URL's parts
    url = "postgresql://postgres:s3cr3t-pw@127.0.0.1:5432/tg_no_such_db"
    with pytest.raises((SourceConfigError, SourceUnavailableError)) as info:
        list(SqlSource("t", url, table="t").read())
    assert "s3cr3t-pw" not in str(info.value)
    assert "tg_no_such_db" in str(info.value)
