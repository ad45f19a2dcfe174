"""Scale out: a multi-file source on a Dask LocalCluster, into a DuckDB file or a PostgreSQL
store, ends exactly as the sequential run."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from helpers import query
from store_backends import store_arg
from tidegate.errors import PipelineError
from tidegate.pipelines import load_pipeline
from tidegate.store import PostgresStore, Store

pytest.importorskip("prefect_dask", reason="needs the dask extra: pip install 'tidegate[dask]'")

COUNT_KEYS = ("rows_in", "loaded", "updated", "quarantined", "duplicates")


def _project(root: Path, project_root: Path, parallel: str) -> Path:
    shutil.copytree(project_root / "schemas", root / "schemas")
    data = root / "data"
    data.mkdir(parents=True)
    for csv in sorted((project_root / "sample_data" / "orders").glob("*.csv")):
        shutil.copy(csv, data / csv.name)
    for n in range(3):  # clean generated months, keys of their own
        rows = ["order_id,customer_id,status,amount,order_date,email,quantity"]
        for i in range(40):
            oid = 5000 + n * 100 + i
            rows.append(
                f"{oid},{600 + i},shipped,{10 + i}.50,2024-0{5 + n}-1{i % 9},u{oid}@x.org,2"
            )
        (data / f"orders_2024-0{5 + n}.csv").write_text("\n".join(rows) + "\n")
    pipelines = root / "pipelines"
    pipelines.mkdir()
    pipeline = (project_root / "pipelines" / "orders.yaml").read_text()
    pipeline = pipeline.replace("sample_data/orders/*.csv", "data/*.csv")
    candidate = (root / "schemas" / "orders.yaml").read_text().replace("{le: 100000}", "{le: 30}")
    (root / "schemas" / "orders.v2.yaml").write_text(candidate.replace("version: 1", "version: 2"))
    shadow = "shadow: schemas/orders.v2.yaml\n"  # judged in the workers too
    (pipelines / "orders.yaml").write_text(pipeline + shadow + parallel)
    return root


def _tables(store: Store) -> dict[str, Any]:
    columns = [
        c
        for (c,) in query(
            store,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'orders' AND table_schema = current_schema() "
            "AND column_name NOT LIKE '_tidegate%' ORDER BY ordinal_position",
        )
    ]
    target = sorted(query(store, f"SELECT {', '.join(columns)} FROM orders"))
    quarantine = sorted(  # location without the project folder
        (
            (record, rules, Path(location).name)
            for record, rules, location in query(
                store, "SELECT record, rules, location FROM quarantine"
            )
        ),
        key=repr,
    )
    audit = query(store, "SELECT event, detail FROM audit")
    events: Counter[tuple[Any, ...]] = Counter()
    shadows = {}
    for event, detail in audit:
        counts = json.loads(detail) if detail else {}
        events[(event, *(counts.get(k) for k in COUNT_KEYS))] += 1
        if "shadow" in counts:
            shadows[Path(counts["location"]).name] = counts["shadow"]
    return {"target": target, "quarantine": quarantine, "events": events, "shadows": shadows}


def test_a_dask_run_gives_the_same_tables_as_a_sequential_run(
    tmp_path: Path,
    project_root: Path,
    prefect_api: str,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reference is the one-machine default, a sequential run into a DuckDB file; the
    Dask run writes to each store backend. With PostgreSQL this is the README's team
    setup: every Dask worker opens its own connections to the shared store, whose URL
    carries ``${ENV}`` references (resolved in the worker, as for a deployment's
    parameter), and the tables, quarantine and audit end as on one machine."""
    from tidegate.audit import verify_chain
    from tidegate.flows import ingest_flow

    sequential = _project(tmp_path / "seq", project_root, "")
    parallel = _project(tmp_path / "par", project_root, "parallel: {runner: dask, workers: 2}\n")
    reference = sequential / "s.duckdb"
    parallel_arg = store_arg(store)
    if isinstance(store, PostgresStore):  # the workers inherit the variable, as on a host
        monkeypatch.setenv("TIDEGATE_TEST_PGUSER", "postgres")
        parallel_arg = parallel_arg.replace("//postgres@", "//${TIDEGATE_TEST_PGUSER}@", 1)
        assert parallel_arg != store_arg(store)
    ingest = ingest_flow()
    before = _task_runs("commit-in-order")
    seq_out = ingest(pipeline="orders", project_dir=str(sequential), store=str(reference))
    par_out = ingest(pipeline="orders", project_dir=str(parallel), store=parallel_arg)

    assert len(par_out) == len(seq_out) == 7
    assert [o["event"] for o in par_out] == [o["event"] for o in seq_out]
    seq, par = _tables(reference), _tables(store)
    assert len(par["target"]) >= 120
    assert par["target"] == seq["target"]
    assert par["quarantine"] == seq["quarantine"]
    assert par["events"] == seq["events"]
    assert par["shadows"] == seq["shadows"]
    assert len(par["shadows"]) == 5 and sum(s["newly_failed"] for s in par["shadows"].values())
    report = verify_chain(store)
    assert report.ok, report
    assert _task_runs("commit-in-order") - before == 7  # the items really went through Dask

    # again on the cluster: every item is found committed (the workers' lookups run at
    # once, next to the ordered skips) and audited as skipped; nothing else changes
    again = ingest(pipeline="orders", project_dir=str(parallel), store=parallel_arg)
    assert [o["event"] for o in again] == ["batch_skipped"] * 7
    assert [o["batch_id"] for o in again] == [o["batch_id"] for o in par_out]
    after = _tables(store)
    assert (after["target"], after["quarantine"]) == (par["target"], par["quarantine"])
    assert after["events"] - par["events"] == Counter({("batch_skipped", *[None] * 5): 7})
    report = verify_chain(store)
    assert report.ok and report.entries == 14, report


def _task_runs(name: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    async def count() -> int:
        async with get_client() as client:
            flt = TaskRunFilter(name=TaskRunFilterName(like_=name))
            response = await client._client.post(
                "/task_runs/count", json={"task_runs": flt.model_dump(mode="json")}
            )
            response.raise_for_status()
            return int(response.json())

    return asyncio.run(count())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[dask]", "expected a mapping"),
        ("{runner: ray}", "parallel.runner: 'ray'"),
        ("{address: 'host:8786'}", "parallel.address"),
        ("{workers: 0}", "parallel.workers: 0"),
        ("{worker: 2}", "parallel.worker"),
    ],
)
def test_a_bad_parallel_section_is_refused(
    tmp_path: Path, project_root: Path, value: str, message: str
) -> None:
    project = _project(tmp_path, project_root, f"parallel: {value}\n")
    with pytest.raises(PipelineError, match=message):
        load_pipeline(project / "pipelines" / "orders.yaml", project)


def test_a_parallel_section_is_parsed(tmp_path: Path, project_root: Path) -> None:
    text = "parallel: {runner: dask, address: 'tcp://10.0.0.5:8786', workers: 4}\n"
    project = _project(tmp_path, project_root, text)
    spec = load_pipeline(project / "pipelines" / "orders.yaml", project)
    assert spec.parallel is not None
    assert (spec.parallel.address, spec.parallel.workers) == ("tcp://10.0.0.5:8786", 4)
