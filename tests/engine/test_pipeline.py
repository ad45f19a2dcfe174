"""``tidegate.Pipeline(...).run()``: the engine end to end without Prefect, on each store."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import tidegate
from helpers import make_contract, query
from sql_backends import ROWS, Backend, write_contract
from tidegate.audit import verify_chain
from tidegate.errors import PipelineError
from tidegate.store import Store

ROW = {"order_id": "1", "status": "shipped", "amount": "10.00", "order_date": "2024-01-02"}


def test_a_frame_runs_loads_quarantines_audits_then_skips(store: Store) -> None:
    contract = make_contract()
    rows = [ROW, {**ROW, "order_id": "2", "status": "lost"}, ROW]
    pipeline = tidegate.Pipeline(source=rows, contract=contract, store=store)
    result = pipeline.run()
    assert isinstance(result, tidegate.RunResult) and result.exit_code == tidegate.EXIT_OK
    (outcome,) = result.outcomes
    assert (outcome.event, outcome.loaded, outcome.quarantined, outcome.duplicates) == (
        "batch_committed",
        1,
        1,
        1,
    )
    assert query(store, "SELECT order_id, _tidegate_record FROM orders") == [(1, 1)]
    assert query(store, "SELECT record, rules FROM quarantine") == [(2, "status.isin")]
    again = tidegate.Pipeline(source=rows, contract=contract, store=store).run()
    assert [o.event for o in again.outcomes] == ["batch_skipped"]
    redo = pipeline.run(reprocess=True)
    assert [o.event for o in redo.outcomes] == ["batch_reprocessed"]
    events = [e for (e,) in query(store, "SELECT event FROM audit ORDER BY seq")]
    assert events == ["batch_committed", "batch_skipped", "batch_reprocessed"]
    assert query(store, "SELECT count(*) FROM orders") == [(1,)]
    assert verify_chain(store).ok


def test_a_held_batch_is_exit_code_3(store: Store) -> None:
    contract = make_contract(policy={"on_row_failure": "fail_batch", "on_existing_key": "update"})
    result = tidegate.Pipeline(
        source=[ROW, {**ROW, "order_id": "x"}], contract=contract, store=store
    ).run()
    assert result.exit_code == tidegate.EXIT_DATA_HELD and result.data_held
    assert "1 batch held" in result.message
    assert query(store, "SELECT count(*) FROM orders") == [(0,)]
    assert query(store, "SELECT count(*) FROM quarantine") == [(2,)]


def test_from_project_runs_what_the_pipeline_file_declares(
    tmp_path: Path, project_root: Path
) -> None:
    for folder in ("schemas", "pipelines", "sample_data"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    pipeline = tidegate.Pipeline.from_project("orders", tmp_path)
    assert pipeline.store == tidegate.open_store(tmp_path / ".tidegate" / "tidegate.duckdb")
    result = pipeline.run()
    events = [o.event for o in result.outcomes]
    assert events.count("batch_committed") == 2 and events.count("file_rejected") == 2
    assert result.exit_code == tidegate.EXIT_DATA_HELD  # two unreadable files
    store = pipeline.store
    loaded = query(store, "SELECT count(*) FROM orders")[0][0]
    assert loaded == result.loaded - sum(o.updated for o in result.outcomes)
    assert (1001,) in query(store, "SELECT order_id FROM orders")


def test_a_busy_source_with_on_busy_skip_returns_at_once(tmp_path: Path) -> None:
    store = tidegate.open_store(tmp_path / "tidegate.duckdb")
    pipeline = tidegate.Pipeline(
        source=[ROW], contract=make_contract(), store=store, on_busy="skip"
    )
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.source_lock("orders", "wait"):
            held.set()
            release.wait(30)

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert held.wait(30)
        result = pipeline.run()
    finally:
        release.set()
        other.join()
    assert result.busy and result.outcomes == ()
    assert not store.exists(), "a busy run wrote to the store"
    assert not (tmp_path / "tidegate.duckdb").exists()


def test_a_source_that_is_not_one_is_refused_by_name(tmp_path: Path) -> None:
    pipeline = tidegate.Pipeline(
        source=object(), contract=make_contract(), store=tmp_path / "s.duckdb"
    )
    with pytest.raises(PipelineError, match="object is not a source"):
        pipeline.run()
    with pytest.raises(PipelineError, match="on_busy"):
        tidegate.Pipeline(source=[ROW], contract=make_contract(), on_busy="later")


def test_an_incremental_sql_declaration_is_handed_its_watermark(
    backend: Backend, tmp_path: Path
) -> None:
    """``source={"kind": "sql", ...}``: the Pipeline reads the committed watermark under
    the source's lock and hands it to the source, as the flow does."""
    backend.create_items()
    backend.insert(*ROWS)
    contract = tidegate.load_contract(write_contract(tmp_path))
    declared = {
        "kind": "sql",
        "url": backend.url,
        "table": backend.table,
        "cursor": "updated_at",
        "chunk_size": 2,
    }
    store = tidegate.open_store(tmp_path / "store.duckdb")
    pipeline = tidegate.Pipeline(source=declared, contract=contract, store=store)
    first = pipeline.run()
    assert [o.event for o in first.outcomes] == ["batch_committed"] * 3
    assert first.loaded == len(ROWS)
    assert pipeline.run().outcomes == ()  # nothing after the watermark: nothing read
    backend.insert((6, "fay", "60.00", "2024-01-02 09:00:00"))
    third = pipeline.run()
    assert [(o.event, o.rows_in) for o in third.outcomes] == [("batch_committed", 1)]
    assert query(store, "SELECT id FROM items ORDER BY id") == [(i,) for i in range(1, 7)]
    again = pipeline.run(reprocess=True)  # from the first row: every window again
    assert sum(o.rows_in for o in again.outcomes) == len(ROWS) + 1


def test_any_source_object_runs_through_the_same_engine(tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "order_id": "2", "amount": "-1"}]
    source = tidegate.MemorySource.from_records("orders", rows, location="from-memory")
    store = tidegate.open_store(tmp_path / "s.duckdb")
    result = tidegate.Pipeline(source=source, contract=make_contract(), store=store).run()
    (outcome,) = result.outcomes
    assert (outcome.location, outcome.loaded, outcome.quarantined) == ("from-memory", 1, 1)
    assert query(store, "SELECT record, rules FROM quarantine") == [(2, "amount.ge")]
