"""`--reprocess` of an incremental SQL source: every window is read again from the first
row, committed windows are replaced atomically, and a correction the cursor cannot see
(a value changed without touching ``updated_at``) reaches the target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import query
from sql_backends import ROWS, Backend, make_project
from tidegate.audit import verify_chain

pytestmark = pytest.mark.e2e


def _ingest(project: Path, reprocess: bool = False) -> list[dict[str, object]]:
    from tidegate.tasks import ingest

    return ingest(pipeline="items", project_dir=str(project), reprocess=reprocess)


def test_reprocess_rereads_every_window_and_replaces_it(
    backend: Backend, tmp_path: Path, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIDEGATE_STORE", raising=False)
    backend.create_items()
    backend.insert(*ROWS)
    project = make_project(tmp_path, backend, chunk_size=2)
    store = project / ".tidegate" / "tidegate.duckdb"
    first = _ingest(project)
    windows = len(first)
    assert windows >= 2 and {o["event"] for o in first} == {"batch_committed"}
    assert sum(int(str(o["loaded"])) for o in first) == 5
    mark = query(store, "SELECT max(cursor_value) FROM checkpoints")[0][0]

    # a correction the cursor cannot see: the row changes, updated_at does not
    backend.execute(f"UPDATE {backend.table} SET name = 'Ann (fixed)' WHERE id = 1")
    assert _ingest(project) == []  # incremental: nothing after the watermark
    assert query(store, "SELECT name FROM items WHERE id = 1") == [("ann",)]

    again = _ingest(project, reprocess=True)
    assert len(again) == windows
    assert {o["event"] for o in again} == {"batch_reprocessed"}
    assert query(store, "SELECT name FROM items WHERE id = 1") == [("Ann (fixed)",)]
    assert query(store, "SELECT count(*), count(DISTINCT id) FROM items") == [(5, 5)]
    statuses = dict(query(store, "SELECT status, count(*) FROM checkpoints GROUP BY 1"))
    assert statuses == {"committed": windows, "replaced": windows}
    details = [
        json.loads(d)
        for (d,) in query(
            store, "SELECT detail FROM audit WHERE event = 'batch_reprocessed' ORDER BY seq"
        )
    ]
    assert all(d["reprocess"]["replaced_batch_id"] for d in details)
    # the watermark ends where it was, so the next plain run reads nothing again
    last = query(
        store,
        "SELECT cursor_value FROM checkpoints WHERE status = 'committed' "
        "ORDER BY committed_at DESC LIMIT 1",
    )
    assert last == [(mark,)]
    assert _ingest(project) == []
    assert verify_chain(store).ok
