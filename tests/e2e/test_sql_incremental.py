"""Incremental SQL ingestion through the real `ingest` flow, and a SIGKILL mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from helpers import query
from sql_backends import ROWS, Backend, make_project
from store_backends import store_arg
from tidegate.errors import StoreError
from tidegate.sources._sql import TEST_SLEEP_ENV
from tidegate.store import Store

pytestmark = pytest.mark.e2e

# (source database, store): every source into a DuckDB store, and a PostgreSQL source into
# a PostgreSQL store (the watermark then commits in a PostgreSQL transaction); not the
# whole cross product, which would only repeat the same store code.
SOURCE_AND_STORE = pytest.mark.parametrize(
    ("backend", "store"),
    [
        pytest.param("sqlite", "duckdb", id="sqlite-duckdb"),
        pytest.param("postgres", "duckdb", id="postgres-duckdb", marks=pytest.mark.postgres),
        pytest.param("mariadb", "duckdb", id="mariadb-duckdb", marks=pytest.mark.mariadb),
        pytest.param("postgres", "postgres", id="postgres-postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)


def run_ingest(project: Path, store: Store) -> list[dict[str, object]]:
    from tidegate.tasks import ingest

    return ingest(pipeline="items", project_dir=str(project), store=store_arg(store))


@SOURCE_AND_STORE
def test_rows_added_and_updated_arrive_exactly_once(
    backend: Backend, store: Store, tmp_path: Path, prefect_api: str
) -> None:
    backend.create_items()
    backend.insert(*ROWS[:3])
    project = make_project(tmp_path, backend, chunk_size=100)
    first = run_ingest(project, store)
    assert [o["event"] for o in first] == ["batch_committed"]
    assert query(store, "SELECT count(*) FROM items") == [(3,)]
    mark1 = query(store, "SELECT max(cursor_value) FROM checkpoints")[0][0]

    backend.insert(*ROWS[3:])
    backend.execute(
        f"UPDATE {backend.table} SET name = 'BOB', updated_at = '2024-01-05 00:00:00' WHERE id = 2"
    )
    second = run_ingest(project, store)
    assert [o["event"] for o in second] == ["batch_committed"]
    assert second[0]["loaded"] == 3 and second[0]["updated"] == 1

    rows = query(store, "SELECT id, name, amount FROM items ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [
        (1, "ann"),
        (2, "BOB"),
        (3, "cy"),
        (4, None),
        (5, "eve"),
    ]
    assert [float(str(r[2])) for r in rows] == [10.5, 20.0, 30.25, 40.0, 50.0]
    events = query(
        store,
        "SELECT event FROM audit WHERE source = 'items' AND event LIKE 'batch_%' ORDER BY seq",
    )
    assert events == [("batch_committed",), ("batch_committed",)]
    marks = query(store, "SELECT cursor_value FROM checkpoints ORDER BY committed_at")
    assert marks[0][0] == mark1 and str(marks[1][0]).startswith("2024-01-05 00:00:00")
    assert run_ingest(project, store) == []  # nothing new: nothing read, nothing written


@SOURCE_AND_STORE
def test_sigkill_mid_run_loses_and_doubles_nothing(
    backend: Backend, store: Store, tmp_path: Path, prefect_api: str
) -> None:
    backend.create_items()
    backend.insert(*ROWS)
    project = make_project(tmp_path, backend, chunk_size=2)  # windows: [1], [2,3], [4,5]
    env = {**os.environ, TEST_SLEEP_ENV: "2", "PREFECT_API_URL": prefect_api}
    code = (
        "from tidegate.tasks import ingest; "
        f"ingest(pipeline='items', project_dir={str(project)!r}, store={store_arg(store)!r})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        committed = 0
        deadline = time.monotonic() + 120
        while committed < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
            assert proc.poll() is None, "the flow ended before it was killed"
            try:
                committed = query(store, "SELECT count(*) FROM checkpoints")[0][0]
            except (duckdb.Error, StoreError, IndexError):
                continue  # not created yet, or the flow holds the DuckDB file
        assert committed == 1, "the first window was never committed"
        time.sleep(0.5)  # now inside the next window's read -> commit gap (2 s sleep)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert query(store, "SELECT count(*) FROM checkpoints")[0][0] == 1
    assert query(store, "SELECT count(*) FROM items")[0][0] == 1

    outcomes = run_ingest(project, store)  # the same windows again, without the pause
    assert [o["event"] for o in outcomes] == ["batch_committed", "batch_committed"]
    assert query(store, "SELECT id FROM items ORDER BY id") == [(1,), (2,), (3,), (4,), (5,)]
    assert query(store, "SELECT sum(loaded), count(*) FROM checkpoints") == [(5, 3)]
    assert query(
        store, "SELECT count(*) FROM audit WHERE event IN ('batch_committed', 'batch_skipped')"
    ) == [(3,)]
