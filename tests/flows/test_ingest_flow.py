"""The real Prefect flow: artifacts, retries for transient errors only, config errors fail fast."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from helpers import latest_artifact, query, scalar
from store_backends import store_arg
from tidegate.errors import ContractError, StoreLockedError, StoreUnavailableError, transient_only
from tidegate.store import PostgresStore, Store


def test_only_transient_errors_are_retried() -> None:
    assert transient_only(None, None, SimpleNamespace(data=StoreLockedError("locked")))
    assert not transient_only(None, None, SimpleNamespace(data=ValueError("bug")))
    assert not transient_only(None, None, SimpleNamespace(data=ContractError("f", "k", 1, "v")))


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    for folder in ("schemas", "pipelines"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    shutil.copytree(
        project_root / "sample_data" / "inventory", tmp_path / "sample_data" / "inventory"
    )
    return tmp_path


def _artifact_rows(key: str) -> list[dict]:
    table = latest_artifact(key).data
    return table if isinstance(table, list) else json.loads(table)


def test_flow_commits_audits_and_publishes_artifacts(
    project: Path, store: Store, prefect_api: str
) -> None:
    """The flow end to end on each store backend: outcomes, tables, checkpoints, the audit
    chain, and the summary and report artifacts (the report reads the store back)."""
    from tidegate.audit import verify_chain
    from tidegate.flows import ingest_flow

    outcomes = ingest_flow()(pipeline="inventory", project_dir=str(project), store=store_arg(store))
    assert [o["event"] for o in outcomes] == ["batch_committed", "file_rejected"]
    committed, rejected = outcomes
    counts = ("rows_in", "loaded", "updated", "quarantined", "duplicates")
    assert tuple(committed[k] for k in counts) == (24, 20, 0, 4, 0)  # sample_data/README.md
    assert rejected["quarantined"] == 1

    assert scalar(store, "SELECT count(*) FROM inventory") == 20
    assert query(
        store, "SELECT status, count(*) FROM checkpoints GROUP BY status ORDER BY status"
    ) == [("committed", 2)]
    quarantined = query(store, "SELECT batch_id, rules, status FROM quarantine ORDER BY id")
    assert [(b, st) for b, _, st in quarantined] == [(committed["batch_id"], "pending")] * 4 + [
        (rejected["batch_id"], "pending")
    ]
    assert sorted(r for _, r, _ in quarantined[:4]) == sorted(committed["failure_counts"])
    assert quarantined[-1][1] == "_file.unreadable"
    events = query(store, "SELECT seq, event, batch_id FROM audit ORDER BY seq")
    assert [(seq, event) for seq, event, _ in events] == [
        (1, "batch_committed"),
        (2, "file_rejected"),
    ]
    assert [b for _, _, b in events] == [committed["batch_id"], rejected["batch_id"]]
    assert [o["audit_seq"] for o in outcomes] == [1, 2]
    report = verify_chain(store)
    assert report.ok and report.entries == 2, report

    rows = _artifact_rows("tidegate-inventory")
    assert {r["event"] for r in rows} == {"batch_committed", "file_rejected"}
    assert sum(r["loaded"] for r in rows) == 20
    batches = _artifact_rows("tidegate-report-inventory-batches")  # best effort: warns only
    assert [(r["batch_id"], r["loaded"]) for r in batches if r["event"] == "batch_committed"] == [
        (committed["batch_id"], 20)
    ]

    again = ingest_flow()(pipeline="inventory", project_dir=str(project), store=store_arg(store))
    assert [o["event"] for o in again] == ["batch_skipped", "batch_skipped"]
    assert scalar(store, "SELECT count(*) FROM inventory") == 20
    assert verify_chain(store).entries == 4


def test_a_transient_store_error_mid_commit_is_retried_and_the_batch_lands_once(
    project: Path, store: Store, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit fails after writing its rows, inside its transaction (a locked DuckDB
    file, a PostgreSQL server that stopped answering): all of it is rolled back, Prefect
    retries the task, and the batch lands exactly once."""
    import tidegate.store._batches as batches_module
    from tidegate.audit import verify_chain
    from tidegate.flows import ingest_flow

    transient = (
        StoreUnavailableError("PostgreSQL store stopped answering")
        if isinstance(store, PostgresStore)
        else StoreLockedError("store locked by another process")
    )
    real = batches_module.append_audit
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # the batch's rows, quarantine and checkpoint are written by now
            raise transient
        return real(*args, **kwargs)

    monkeypatch.setattr(batches_module, "append_audit", flaky)
    outcomes = ingest_flow()(pipeline="inventory", project_dir=str(project), store=store_arg(store))
    assert calls["n"] == 3  # the failed commit, its retry, the file reject
    assert [o["event"] for o in outcomes] == ["batch_committed", "file_rejected"]
    assert scalar(store, "SELECT count(*) FROM inventory") == 20
    assert scalar(store, "SELECT count(*) FROM quarantine") == 5
    assert scalar(store, "SELECT count(*) FROM checkpoints") == 2
    assert scalar(store, "SELECT count(*) FROM audit WHERE event = 'batch_committed'") == 1
    assert verify_chain(store).ok


def test_a_bad_contract_fails_the_flow_without_retrying(
    project: Path, store: Store, prefect_api: str
) -> None:
    from tidegate.flows import ingest_flow

    (project / "schemas" / "inventory.yaml").write_text(
        "source: inventory\nversion: zero\ncolumns: {}\n"
    )
    with pytest.raises(ContractError, match="version"):
        ingest_flow()(pipeline="inventory", project_dir=str(project), store=store_arg(store))
    assert not store.exists()
