"""Test helpers: build contracts and raw batches in code, query the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tidegate.batches import RoutedBatch
from tidegate.contracts import Contract, contract_from_dict
from tidegate.engine import prepare
from tidegate.sources import RawBatch
from tidegate.store import DuckDBStore, Store, connect


def process(raw: RawBatch, contract: Contract) -> RoutedBatch:
    """The engine's stages (normalize, validate, route) for one raw batch, no store."""
    return prepare(raw, contract).routed


def make_contract(**overrides: Any) -> Contract:
    data: dict[str, Any] = {
        "source": "orders",
        "version": 1,
        "primary_key": ["order_id"],
        "normalize": {"null_values": ["", "N/A", "null"], "trim": True},
        "columns": {
            "order_id": {"type": "int64", "nullable": False},
            "status": {
                "type": "string",
                "normalize": {"lower": True},
                "checks": [{"isin": ["pending", "shipped"]}],
            },
            "amount": {
                "type": "decimal(12,2)",
                "normalize": {"strip": ["$", ","]},
                "checks": [{"ge": 0}],
            },
            "order_date": {"type": "date", "formats": ["%Y-%m-%d", "%d/%m/%Y"]},
        },
        "policy": {
            "on_row_failure": "quarantine",
            "on_existing_key": "update",
            "max_quarantine_ratio": 1.0,
        },
    }
    for key, value in overrides.items():
        data[key] = value
    return contract_from_dict(data)


def make_raw(
    rows: list[dict[str, str | None]],
    *,
    source: str = "orders",
    location: str = "mem.csv",
    sha: str = "a" * 64,
) -> RawBatch:
    columns = list(rows[0]) if rows else []
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.String for c in columns}
    ).with_columns(pl.int_range(2, len(rows) + 2, dtype=pl.Int64).alias("_tidegate_record"))
    return RawBatch(source=source, location=location, content_sha256=sha, frame=frame)


def query(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of one statement on either store backend (``?`` placeholders on both)."""
    if isinstance(store, Path | DuckDBStore):
        con = duckdb.connect(str(store), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()
    with connect(store) as pg:
        return list(pg.execute(sql, params or []).fetchall())


def scalar(store: Store, sql: str, params: list[Any] | None = None) -> Any:
    return query(store, sql, params)[0][0]


def _orders_model() -> type:
    import pandera.polars as pa

    class OrdersModel(pa.DataFrameModel):
        """Checks YAML cannot say: shipped orders must have an amount."""

        @pa.dataframe_check(name="shipped_needs_amount")
        @classmethod
        def shipped_needs_amount(cls, data: Any) -> Any:
            return data.lazyframe.select(
                ~((pl.col("status") == "shipped") & pl.col("amount").is_null())
            )

    return OrdersModel


OrdersModel = _orders_model()


def copy_store(template: Path, folder: Path, name: str = "tidegate.duckdb") -> Path:
    """A private copy of a store file, to change without touching the template."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / name
    shutil.copy(template, copy)
    return copy


CLEAN_CSV = "id,amount\n1,10\n2,20\n3,30\n4,40\n5,50\n"
# 2 of 5 rows fail `amount.ge`: quarantined, or the whole batch held below ratio 0.4
SOME_BAD_CSV = "id,amount\n11,10\n12,-1\n13,30\n14,-5\n15,50\n"


def write_csv_source(
    root: Path,
    contract: dict[str, Any],
    data: str = "data/orders.csv",
    chunk_size: int | None = None,
    **pipeline_keys: Any,
) -> None:
    """``schemas/<source>.yaml`` and ``pipelines/<source>.yaml`` reading the CSV ``data``
    (in chunks of ``chunk_size`` rows when given), with any other pipeline keys."""
    import yaml

    source = contract["source"]
    for folder in ("schemas", "pipelines"):
        (root / folder).mkdir(exist_ok=True)
    (root / "schemas" / f"{source}.yaml").write_text(yaml.safe_dump(contract))
    reader: dict[str, Any] = {"kind": "file", "path": data, "format": "csv"}
    if chunk_size:
        reader["chunk_size"] = chunk_size
    pipeline = {
        "name": source,
        "source": reader,
        "contract": f"schemas/{source}.yaml",
        **pipeline_keys,
    }
    (root / "pipelines" / f"{source}.yaml").write_text(yaml.safe_dump(pipeline))


def make_sales_project(
    root: Path,
    files: dict[str, str | bytes],
    *,
    max_quarantine_ratio: float = 1.0,
    monitor_quarantine_ratio: float | None = None,
) -> Path:
    """A project with one CSV pipeline `sales` (id, amount >= 0) over ``data/*.csv``:
    the smallest project whose runs end loaded, held, rejected or over a threshold."""
    import yaml

    (root / "schemas").mkdir(parents=True)
    contract = {
        "source": "sales",
        "version": 1,
        "primary_key": ["id"],
        "columns": {
            "id": {"type": "int64", "nullable": False},
            "amount": {"type": "float64", "checks": [{"ge": 0}]},
        },
        "policy": {"max_quarantine_ratio": max_quarantine_ratio},
    }
    (root / "schemas" / "sales.yaml").write_text(yaml.safe_dump(contract))
    pipeline: dict[str, Any] = {
        "name": "sales",
        "source": {"kind": "file", "path": "data/*.csv", "format": "csv"},
        "contract": "schemas/sales.yaml",
    }
    if monitor_quarantine_ratio is not None:
        pipeline["monitor"] = {"max_quarantine_ratio": monitor_quarantine_ratio}
    (root / "pipelines").mkdir()
    (root / "pipelines" / "sales.yaml").write_text(yaml.safe_dump(pipeline))
    (root / "data").mkdir()
    for name, content in files.items():
        path = root / "data" / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def open_pii(store: Store | Path, detail: Any) -> Any:
    """An audit detail with its sealed PII values decrypted under the store's key."""
    from tidegate.store._connect import read_if_made
    from tidegate.store._pii_keys import key_materials
    from tidegate.store._pii_seal import open_detail

    with read_if_made(store) as con:
        return open_detail(detail, key_materials(con) if con is not None else {})


def latest_artifact(key: str) -> Any:
    """The newest Prefect artifact under ``key`` in the API the tests run against."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )

    artifacts = asyncio.run(read())
    assert artifacts, f"no {key} artifact in the Prefect API"
    return artifacts[0]


def suite_contract(
    folder: Path,
    columns: dict[str, Any],
    expectations: list[dict[str, Any]],
    source: str = "orders",
    **settings: Any,
) -> Any:
    """A contract over ``columns`` naming a GX suite of ``expectations`` (written beside
    it in ``folder``), with ``settings`` under ``expectations:`` (on_batch_failure, ...)."""
    import json

    from tidegate.contracts import contract_from_dict

    (folder / f"{source}.gx.json").write_text(
        json.dumps({"name": source, "expectations": expectations})
    )
    return contract_from_dict(
        {
            "source": source,
            "version": 1,
            "columns": columns,
            "expectations": {"suite": f"{source}.gx.json", **settings},
        },
        str(folder / f"{source}.yaml"),
    )


def tg_ok(store: Store, project_root: Path, *args: str) -> str:
    """``tidegate ARGS --store STORE --project ROOT`` as reviewer alice; its output, after
    checking it exited 0."""
    from typer.testing import CliRunner

    from store_backends import store_arg
    from tidegate.cli import app

    result = CliRunner().invoke(
        app,
        [*args, "--store", store_arg(store), "--project", str(project_root)],
        env={"TIDEGATE_ACTOR": "alice"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def counts_in_step(store: Store) -> None:
    """The quarantine's counts table holds what a fresh GROUP BY over the quarantine
    says (keys counted down to 0 are left in it and mean nothing), each key's
    first_at..last_at holding its records' created_at; the rule/column pairs hold every
    pair of the rules side table; a store with a quarantine must have both. No store or
    no quarantine yet: nothing to check."""
    if isinstance(store, Path | DuckDBStore) and not Path(str(store)).exists():
        return
    tables = {
        r[0]
        for r in query(
            store,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()",
        )
    }
    if "quarantine" not in tables:
        return
    assert "quarantine_counts" in tables, "a store with a quarantine has no quarantine_counts"
    fresh = query(
        store,
        "SELECT source, batch_id, status, rules, count(*), min(created_at), max(created_at) "
        "FROM quarantine GROUP BY 1, 2, 3, 4",
    )
    held = query(
        store,
        "SELECT source, batch_id, status, rules, n, first_at, last_at FROM quarantine_counts "
        "WHERE n <> 0",
    )
    assert {k[:4]: int(k[4]) for k in held} == {k[:4]: int(k[4]) for k in fresh}
    bounds = {k[:4]: (k[5], k[6]) for k in held}
    for *key, _, first, last in fresh:
        assert bounds[tuple(key)][0] <= first and last <= bounds[tuple(key)][1], key
    assert "quarantine_rule_columns" in tables, "a quarantine without its rule/column pairs"
    pairs = set(query(store, 'SELECT rule, "column" FROM quarantine_rule_columns'))
    side = query(store, "SELECT DISTINCT rule, coalesce(\"column\", '') FROM quarantine_rules")
    assert set(side) <= pairs, set(side) - pairs
