"""Data outcomes a machine can act on: the flow-run state, a Prefect event per batch,
and the verdict the CLI turns into an exit code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect.testing.fixtures import asserting_events_worker  # noqa: F401 (a fixture)

from helpers import CLEAN_CSV, SOME_BAD_CSV, make_sales_project, query
from tidegate import EXIT_DATA_HELD, EXIT_OK
from tidegate.engine import verdict
from tidegate.flows._outcome import HELD_STATE, event_names


def _outcome(event: str, location: str = "data/a.csv", **extra: Any) -> dict[str, Any]:
    return {"source": "sales", "location": location, "event": event, **extra}


def test_the_verdict_of_outcomes() -> None:
    clean = verdict([_outcome("batch_committed"), _outcome("batch_skipped")])
    assert not clean.data_held and clean.exit_code == EXIT_OK
    held = verdict(
        [
            _outcome("batch_committed", "data/a.csv"),
            _outcome("batch_held", "data/b.csv"),
            _outcome("file_rejected", "data/c.csv"),
            _outcome("batch_committed", "data/d.csv", alerts=["quarantine_ratio"]),
            _outcome("batch_committed", "data/e.csv", alerts=["row_count"]),
            _outcome("batch_held", "data/f.csv", alerts=["quarantine_ratio"]),
        ]
    )
    assert held.exit_code == EXIT_DATA_HELD
    assert held.held == ["sales: b.csv", "sales: f.csv"] and held.rejected == ["sales: c.csv"]
    assert held.over_threshold == ["sales: d.csv"]
    assert held.message == (
        "2 batches held (sales: b.csv, sales: f.csv); 1 file rejected (sales: c.csv); "
        "1 batch over the quarantine threshold (sales: d.csv); "
        "review with `tidegate quarantine list`"
    )
    many = verdict([_outcome("batch_held", f"data/{i}.csv") for i in range(5)])
    assert many.message.startswith(
        "5 batches held (sales: 0.csv, sales: 1.csv, sales: 2.csv and 2 more)"
    )


def test_event_names_per_outcome() -> None:
    assert event_names(_outcome("batch_committed")) == ["tidegate.batch.committed"]
    assert event_names(_outcome("batch_held")) == ["tidegate.batch.held"]
    assert event_names(_outcome("batch_skipped")) == ["tidegate.batch.skipped"]
    assert event_names(_outcome("file_rejected")) == ["tidegate.batch.file_rejected"]
    assert event_names(_outcome("batch_committed", alerts=["quarantine_ratio"])) == [
        "tidegate.batch.committed",
        "tidegate.batch.quarantine_threshold",
    ]


def _flow_run_state(flow_run_id: Any) -> tuple[str, str, str | None]:
    from prefect.client.orchestration import get_client

    async def read() -> Any:
        async with get_client() as client:
            return await client.read_flow_run(flow_run_id)

    run = asyncio.run(read())
    return run.state.name, run.state.type.value, run.state.message


def test_a_held_batch_ends_the_flow_run_held_not_completed(
    tmp_path: Path, prefect_api: str
) -> None:
    from tidegate.flows import ingest_flow

    project = make_sales_project(
        tmp_path / "p", {"a.csv": CLEAN_CSV, "b.csv": SOME_BAD_CSV}, max_quarantine_ratio=0.2
    )
    store = tmp_path / "s.duckdb"
    state = ingest_flow()(
        pipeline="sales", project_dir=str(project), store=str(store), return_state=True
    )
    assert state.name == HELD_STATE != "Completed"
    assert "1 batch held (sales: b.csv)" in (state.message or "")
    outcomes = state.result()
    assert [o["event"] for o in outcomes] == ["batch_committed", "batch_held"]
    # what the API holds, which is what the Prefect UI and automations see
    name, kind, message = _flow_run_state(state.state_details.flow_run_id)
    assert (name, kind) == (HELD_STATE, "COMPLETED")
    assert message is not None and "b.csv" in message
    # and the store agrees: the held batch's rows are all in the quarantine
    assert query(store, "SELECT count(*) FROM quarantine") == [(5,)]
    assert query(store, "SELECT count(*) FROM sales") == [(5,)]

    again = ingest_flow()(
        pipeline="sales", project_dir=str(project), store=str(store), return_state=True
    )
    assert again.name == "Completed"  # nothing new: every file is already committed
    assert [o["event"] for o in again.result()] == ["batch_skipped", "batch_skipped"]
    assert _flow_run_state(again.state_details.flow_run_id)[0] == "Completed"


def _tidegate_events(worker: Any) -> list[Any]:
    worker.wait_until_empty()
    return [e for e in worker._client.events if e.event.startswith("tidegate.batch.")]


def test_every_batch_outcome_is_a_prefect_event_with_its_counts(
    tmp_path: Path,
    prefect_api: str,
    asserting_events_worker: Any,  # noqa: F811
) -> None:
    from tidegate.flows import ingest_flow

    project = make_sales_project(
        tmp_path / "p",
        {
            "a.csv": CLEAN_CSV,
            "b.csv": SOME_BAD_CSV,  # 2 of 5 quarantined: over the monitor's 0.3
            "c.csv": b"\x00\x01\x02 not a csv",
            "d.csv": "id,amount\n21,1\n22,-1\n23,-2\n24,-3\n25,5\n",  # 3 of 5: held at 0.5
        },
        max_quarantine_ratio=0.5,
        monitor_quarantine_ratio=0.3,
    )
    store = tmp_path / "s.duckdb"
    ingest_flow()(pipeline="sales", project_dir=str(project), store=str(store))
    events = _tidegate_events(asserting_events_worker)
    by_name: dict[str, list[Any]] = {}
    for e in events:
        by_name.setdefault(e.event, []).append(e)
    assert sorted(by_name) == [
        "tidegate.batch.committed",
        "tidegate.batch.file_rejected",
        "tidegate.batch.held",
        "tidegate.batch.quarantine_threshold",
    ]
    committed = {Path(e.payload["location"]).name: e for e in by_name["tidegate.batch.committed"]}
    assert sorted(committed) == ["a.csv", "b.csv"]
    # b.csv's 0.4 and the held d.csv's 1.0 are both above the monitor's 0.3
    over = {
        Path(e.payload["location"]).name: e for e in by_name["tidegate.batch.quarantine_threshold"]
    }
    assert sorted(over) == ["b.csv", "d.csv"]
    assert over["b.csv"].payload["alerts"] == ["quarantine_ratio"]
    (held,) = by_name["tidegate.batch.held"]
    assert Path(held.payload["location"]).name == "d.csv"
    (rejected,) = by_name["tidegate.batch.file_rejected"]
    assert Path(rejected.payload["location"]).name == "c.csv"
    # the payload's counts are the store's, and the resource names the source
    for e in events:
        assert e.resource.id == "tidegate.source.sales"
        batch_id = e.payload["batch_id"]
        assert any(r.id == f"tidegate.batch.{batch_id}" for r in e.related)
        rows = query(
            store,
            "SELECT rows_in, loaded, quarantined FROM checkpoints WHERE batch_id = ?",
            [batch_id],
        )
        if e.event != "tidegate.batch.file_rejected":
            assert rows == [(e.payload["rows_in"], e.payload["loaded"], e.payload["quarantined"])]
    assert committed["b.csv"].payload["quarantined"] == 2
    assert held.payload["quarantined"] == 5 and held.payload["loaded"] == 0
    # inside a flow run, Prefect relates the event to the run
    assert any(r.role == "flow-run" for r in held.related)

    ingest_flow()(pipeline="sales", project_dir=str(project), store=str(store))
    again = _tidegate_events(asserting_events_worker)[len(events) :]
    assert [e.event for e in again] == ["tidegate.batch.skipped"] * 4


def test_a_run_with_rows_quarantined_under_the_threshold_ends_completed(
    tmp_path: Path, prefect_api: str
) -> None:
    from tidegate.flows import ingest_flow

    project = make_sales_project(tmp_path / "p", {"a.csv": CLEAN_CSV, "b.csv": SOME_BAD_CSV})
    state = ingest_flow()(
        pipeline="sales",
        project_dir=str(project),
        store=str(tmp_path / "s.duckdb"),
        return_state=True,
    )
    assert state.name == "Completed" and state.is_completed()
    assert [o["quarantined"] for o in state.result()] == [0, 2]  # quarantine alone is no hold
