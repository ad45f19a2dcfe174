"""A project with a current and a candidate contract, and batch audit entries that carry
the candidate's shadow result (ISSUE 15 §1), appended through the store's own audit
append, as the engine writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from store_backends import store_arg
from tidegate.cli import app
from tidegate.contracts import load_contract
from tidegate.store import Store, append_audit, ensure_store_tables, transaction

runner = CliRunner()
OLD_HASH = "a" * 64  # an older candidate text, shadowed before the current one


def contract(version: int, high: int) -> dict[str, Any]:
    return {
        "source": "orders",
        "version": version,
        "primary_key": ["id"],
        "columns": {
            "id": {"type": "int64", "nullable": False},
            "amount": {"type": "float64", "checks": [{"ge": 0}, {"le": high}]},
        },
    }


def make_project(root: Path, promote_if: dict[str, Any] | None = None, shadow: bool = True) -> Path:
    """schemas/orders.yaml (v3), schemas/orders.v4.yaml (v4, a tighter range) and
    pipelines/orders.yaml naming the first as contract:, the second as shadow:."""
    for folder in ("schemas", "pipelines", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "data" / "orders.csv").write_text("id,amount\n1,10\n")
    (root / "schemas" / "orders.yaml").write_text(yaml.safe_dump(contract(3, 1000)))
    (root / "schemas" / "orders.v4.yaml").write_text(
        "# the candidate: amounts above 500 are refused\n" + yaml.safe_dump(contract(4, 500))
    )
    pipeline: dict[str, Any] = {
        "name": "orders",
        "source": {"kind": "file", "path": "data/*.csv", "format": "csv"},
        "contract": "schemas/orders.yaml",
    }
    if shadow:
        pipeline["shadow"] = "schemas/orders.v4.yaml"
    if promote_if is not None:
        pipeline["promote_if"] = promote_if
    (root / "pipelines" / "orders.yaml").write_text(yaml.safe_dump(pipeline))
    return root


def candidate_hash(root: Path) -> str:
    return load_contract(root / "schemas" / "orders.v4.yaml").content_hash


def shadow(content_hash: str, rows: int, quarantined: int, newly_passed: int,
           failed_by: dict[str, int], samples: list[int], held: str | None = None,
           passed_by: dict[str, int] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "contract": "schemas/orders.v4.yaml",
        "version": 4,
        "content_hash": content_hash,
        "rows": rows,
        "passed": rows - quarantined,
        "quarantined": quarantined,
        "newly_passed": newly_passed,
        "newly_failed": sum(failed_by.values()),
        "newly_failed_by_rule": failed_by,
        "newly_passed_by_rule": passed_by or {},
        "samples": {"newly_failed": samples, "newly_passed": [7] if newly_passed else []},
        "held": held,
    }


def append_batches(store: Store, batches: list[tuple[str, str, dict[str, Any] | None]]) -> None:
    """``(batch_id, event, shadow detail or None)`` as batch audit entries of orders."""
    with transaction(store) as con:
        ensure_store_tables(con)
        for batch_id, event, detail in batches:
            body: dict[str, Any] = {"rows_in": 10, "loaded": 10, "quarantined": 0,
                                    "duplicates": 0,
                                    "location": f"data/{batch_id}.csv"}  # fmt: skip
            if detail is not None:
                body["shadow"] = detail
            append_audit(con, event, body, source="orders", batch_id=batch_id, actor="engine")


def shadowed_history(store: Store, root: Path) -> None:
    """Two batches of an older candidate text, one without shadow, then three of the
    candidate on disk: 400 rows, 5 newly failed, 1 newly passed, 20 quarantined, 1 held."""
    h = candidate_hash(root)
    append_batches(
        store,
        [
            ("b-old1", "batch_committed", shadow(OLD_HASH, 1000, 500, 0, {"x.y": 500}, [1])),
            ("b-old2", "batch_committed", shadow(OLD_HASH, 1000, 500, 0, {"x.y": 500}, [2])),
            ("b-plain", "batch_committed", None),
            ("b1", "batch_committed",
             shadow(h, 100, 5, 1, {"amount.le": 2}, [12, 40], passed_by={"amount.ge": 1})),
            ("b2", "batch_committed", shadow(h, 200, 10, 0, {"amount.le": 1, "id.not_null": 2},
                                             [3])),
            ("b3", "batch_held", shadow(h, 100, 5, 0, {}, [], held="over max_quarantine_ratio")),
        ],
    )  # fmt: skip


def tg(store: Store, root: Path, *args: str) -> Result:
    return runner.invoke(
        app,
        [*args, "--project", str(root), "--store", store_arg(store)],
        env={"TIDEGATE_ACTOR": "alice"},
    )
