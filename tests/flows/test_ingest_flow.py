"""The real Prefect flow: artifacts, retries for transient errors only, config errors fail fast."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import scalar
from tidegate.errors import ContractError, StoreLockedError
from tidegate.flows._ingest import transient_only


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


def test_flow_publishes_a_table_artifact(project: Path, prefect_api: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from tidegate.flows import ingest_flow

    outcomes = ingest_flow()(
        pipeline="inventory", project_dir=str(project), store=str(project / "s.duckdb")
    )
    assert [o["event"] for o in outcomes] == ["batch_committed", "file_rejected"]

    async def read() -> list:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["tidegate-inventory"])),
                sort=ArtifactSort.CREATED_DESC,
            )

    artifacts = asyncio.run(read())
    assert artifacts, "no tidegate-inventory artifact in the Prefect API"
    table = artifacts[0].data
    rows = table if isinstance(table, list) else json.loads(table)
    assert {r["event"] for r in rows} == {"batch_committed", "file_rejected"}
    assert sum(r["loaded"] for r in rows) == 20


def test_a_locked_store_is_retried_and_the_batch_lands_once(
    project: Path, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tidegate.flows._ingest as ingest_module
    from tidegate.flows import ingest_flow

    real = ingest_module.commit_batch
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreLockedError("store locked by another process")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "commit_batch", flaky)
    store = project / "s.duckdb"
    outcomes = ingest_flow()(pipeline="inventory", project_dir=str(project), store=str(store))
    assert calls["n"] == 2
    assert outcomes[0]["event"] == "batch_committed"
    assert scalar(store, "SELECT count(*) FROM inventory") == 20
    assert scalar(store, "SELECT count(*) FROM audit WHERE event = 'batch_committed'") == 1


def test_a_bad_contract_fails_the_flow_without_retrying(project: Path, prefect_api: str) -> None:
    from tidegate.flows import ingest_flow

    (project / "schemas" / "inventory.yaml").write_text(
        "source: inventory\nversion: zero\ncolumns: {}\n"
    )
    with pytest.raises(ContractError, match="version"):
        ingest_flow()(
            pipeline="inventory", project_dir=str(project), store=str(project / "s.duckdb")
        )
    assert not (project / "s.duckdb").exists()
