"""The flow reads an incremental source's watermark from the store and hands it in."""

from __future__ import annotations

from pathlib import Path

from helpers import process
from sql_backends import ROWS, make_backend, write_contract
from tidegate.contracts import load_contract
from tidegate.engine import committed_watermark
from tidegate.sources import RawBatch, SqlSource, source_from_config
from tidegate.store import commit_batch


def test_committed_watermark_is_the_last_committed_cursor(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    backend.create_items()
    backend.insert(*ROWS)
    store = tmp_path / "store.duckdb"
    contract = load_contract(write_contract(tmp_path))
    config = {"kind": "sql", "url": backend.url, "table": backend.table, "cursor": "id"}
    assert committed_watermark(store, "items", config) is None  # nothing committed yet

    source = source_from_config("items", {**config, "chunk_size": 2}, tmp_path)
    first = next(iter(source.read()))
    assert isinstance(first, RawBatch) and first.cursor_value == "2"
    commit_batch(
        store, process(first, contract), contract, cursor=(first.cursor_column, first.cursor_value)
    )
    assert committed_watermark(store, "items", config) == "2"
    assert committed_watermark(store, "items", config, reprocess=True) is None
    assert committed_watermark(store, "items", {**config, "cursor": "name"}) is None
    assert committed_watermark(store, "other", config) is None

    handed = source_from_config(
        "items", config, tmp_path, watermark=committed_watermark(store, "items", config)
    )
    assert isinstance(handed, SqlSource)
    rows = [b.frame["id"].to_list() for b in handed.read() if isinstance(b, RawBatch)]
    assert rows == [["3", "4", "5"]]


def test_a_source_that_is_not_incremental_never_reads_the_store(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "store.duckdb"
    file_source = {"kind": "file", "path": "data/*.csv"}
    whole_table = {"kind": "sql", "url": "sqlite:///x.db", "table": "t"}
    assert committed_watermark(missing, "orders", file_source) is None
    assert committed_watermark(missing, "orders", whole_table) is None
    assert not missing.parent.exists()
