"""Scale out: a multi-file source on a Dask LocalCluster ends exactly as the sequential run."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tidegate.errors import PipelineError
from tidegate.flows import load_pipeline

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
    (pipelines / "orders.yaml").write_text(pipeline + parallel)
    return root


def _tables(store: Path) -> dict[str, Any]:
    with duckdb.connect(str(store), read_only=True) as con:
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'orders' AND column_name NOT LIKE '_tidegate%' "
                "ORDER BY ordinal_position"
            ).fetchall()
        ]
        target = sorted(con.execute(f"SELECT {', '.join(columns)} FROM orders").fetchall())
        quarantine = sorted(  # location without the project folder
            (
                (record, rules, Path(location).name)
                for record, rules, location in con.execute(
                    "SELECT record, rules, location FROM quarantine"
                ).fetchall()
            ),
            key=repr,
        )
        audit = con.execute("SELECT event, detail FROM audit").fetchall()
    events: Counter[tuple[Any, ...]] = Counter()
    for event, detail in audit:
        counts = json.loads(detail) if detail else {}
        events[(event, *(counts.get(k) for k in COUNT_KEYS))] += 1
    return {"target": target, "quarantine": quarantine, "events": events}


def test_a_dask_run_gives_the_same_tables_as_a_sequential_run(
    tmp_path: Path, project_root: Path, prefect_api: str
) -> None:
    from tidegate.audit import verify_chain
    from tidegate.flows import ingest_flow

    sequential = _project(tmp_path / "seq", project_root, "")
    parallel = _project(tmp_path / "par", project_root, "parallel: {runner: dask, workers: 2}\n")
    ingest = ingest_flow()
    seq_out = ingest(
        pipeline="orders", project_dir=str(sequential), store=str(sequential / "s.duckdb")
    )
    par_out = ingest(pipeline="orders", project_dir=str(parallel), store=str(parallel / "s.duckdb"))

    assert len(par_out) == len(seq_out) == 7
    assert [o["event"] for o in par_out] == [o["event"] for o in seq_out]
    seq, par = _tables(sequential / "s.duckdb"), _tables(parallel / "s.duckdb")
    assert len(par["target"]) >= 120
    assert par["target"] == seq["target"]
    assert par["quarantine"] == seq["quarantine"]
    assert par["events"] == seq["events"]
    report = verify_chain(parallel / "s.duckdb")
    assert report.ok, report
    assert _task_runs("commit-in-order") == 7  # the items really went through the Dask runner


def _task_runs(name: str) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    async def count() -> int:
        async with get_client() as client:
            flt = TaskRunFilter(name=TaskRunFilterName(like_=name))
            return len(await client.read_task_runs(task_run_filter=flt))

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
