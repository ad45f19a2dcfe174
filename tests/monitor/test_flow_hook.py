"""The real ``ingest`` flow with monitoring hooked in: the engine's ``observe`` step runs
as the ``monitor`` task after each commit."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from helpers import query, scalar
from monitor._support import SALES_CONTRACT, sales_rows, webhook_receiver
from store_backends import store_arg
from tidegate.monitor import wait_for_deliveries
from tidegate.store import Store


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def make_project(root: Path, hook_url: str) -> Path:
    (root / "schemas").mkdir(parents=True)
    (root / "schemas" / "sales.yaml").write_text(yaml.safe_dump(SALES_CONTRACT))
    (root / "pipelines").mkdir()
    pipeline = {
        "name": "sales",
        "source": {"kind": "file", "path": "data/*.csv", "format": "csv"},
        "contract": "schemas/sales.yaml",
        "monitor": {
            "max_quarantine_ratio": 0.2,
            "row_count": {"min": 10, "vs_recent": 3.0},
            "schema_drift": True,
            "value_drift": {
                "null_rate": 0.2,
                "new_categories": True,
                "mean_shift": 3.0,
                "ignore": ["sale_id"],
            },
            "webhook": {"url": hook_url, "retries": 2, "timeout_s": 2, "backoff_s": 3.0},
        },
    }
    (root / "pipelines" / "sales.yaml").write_text(yaml.safe_dump(pipeline))
    (root / "data").mkdir()
    write_csv(root / "data" / "sales_1.csv", sales_rows(null_every=10))
    drifted = sales_rows(first_id=200, amount_base=200, null_every=2, extra={"promo": "X"})
    write_csv(root / "data" / "sales_2.csv", drifted)
    return root


def test_the_flow_raises_drift_alerts_and_does_not_wait_for_the_webhook(
    store: Store, tmp_path: Path, prefect_api: str, emitted: list[dict[str, Any]]
) -> None:
    from tidegate.flows import ingest_flow

    with webhook_receiver(500) as receiver:
        project = make_project(tmp_path / "project", receiver.url)
        receiver.answer.clear()  # every delivery is held until the flow has returned
        outcomes = ingest_flow()(pipeline="sales", project_dir=str(project), store=store_arg(store))
        assert not wait_for_deliveries(0), "the flow waited for the webhook deliveries"
        receiver.answer.set()
        assert wait_for_deliveries(60)

    assert [o["event"] for o in outcomes] == ["batch_committed", "batch_committed"]
    second = outcomes[1]["batch_id"]
    alerts = [
        json.loads(d)
        for (d,) in query(store, "SELECT detail FROM audit WHERE event = 'alert_raised'")
    ]
    assert {(a["kind"], a["column"], a.get("check") or a.get("change")) for a in alerts} == {
        ("schema_drift", "promo", "new"),
        ("value_drift", "amount", "null_rate"),
        ("value_drift", "amount", "mean_shift"),
    }
    assert {a["batch_id"] for a in alerts} == {second}
    assert scalar(store, "SELECT count(*) FROM profiles") == 2
    assert sorted(e["event"] for e in emitted) == [
        "tidegate.alert.schema_drift",
        "tidegate.alert.value_drift",
        "tidegate.alert.value_drift",
        "tidegate.batch.committed",  # and one event per batch outcome
        "tidegate.batch.committed",
    ]
    assert len(receiver.bodies) == 3 * 3, "three alerts, each tried three times"
    failed = scalar(store, "SELECT count(*) FROM audit WHERE event = 'alert_delivery_failed'")
    assert failed == 3
