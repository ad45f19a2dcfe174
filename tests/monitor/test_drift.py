"""A drift scenario: a normal later file raises nothing; a drifted one raises exactly
the schema and value drift alerts it should, and only those."""

from __future__ import annotations

import json

import pytest

from helpers import query
from monitor._support import run_batch, sales_rows, summary
from tidegate.monitor import MonitorConfig, ValueDriftConfig
from tidegate.store import Store

DRIFT = MonitorConfig(
    schema_drift=True,
    value_drift=ValueDriftConfig(
        null_rate=0.2, new_categories=True, mean_shift=3.0, ignore=("sale_id",)
    ),
)


@pytest.fixture
def store(store: Store) -> Store:
    """A store (each backend) holding one January batch of sales: the drift baseline."""
    first, _, _ = run_batch(store, DRIFT, sales_rows(null_every=10), name="jan")
    assert first == [], "the first batch has no history to drift from"
    return store


def test_a_normal_second_file_raises_nothing(store: Store) -> None:
    rows = sales_rows(first_id=100, amount_base=102, null_every=10)
    alerts, _, _ = run_batch(store, DRIFT, rows, name="feb")
    assert alerts == []


def test_a_new_column_shifted_values_and_more_nulls_raise_exactly_those_alerts(
    store: Store, emitted: list[dict[str, object]]
) -> None:
    run_batch(store, DRIFT, sales_rows(first_id=100, amount_base=102, null_every=10), name="feb")
    rows = sales_rows(first_id=200, amount_base=200, null_every=2, extra={"promo_code": "SPRING"})
    alerts, outcome, _ = run_batch(store, DRIFT, rows, name="mar")

    assert summary(alerts) == {
        ("schema_drift", "promo_code", "new"),
        ("value_drift", "amount", "null_rate"),
        ("value_drift", "amount", "mean_shift"),
    }
    assert len(alerts) == 3
    shift = next(a for a in alerts if a.detail.get("check") == "mean_shift")
    assert shift.measured > 3.0 and shift.threshold == 3.0
    assert all(a.batch_id == outcome.batch_id and a.source == "sales" for a in alerts)

    audited = query(
        store,
        "SELECT source, batch_id, detail FROM audit WHERE event = 'alert_raised' ORDER BY seq",
    )
    assert len(audited) == 3
    for source, batch_id, detail in audited:
        body = json.loads(detail)
        assert (source, batch_id) == ("sales", outcome.batch_id)
        assert {"kind", "source", "batch_id", "measured", "threshold"} <= set(body)
    assert sorted(e["event"] for e in emitted) == [
        "tidegate.alert.schema_drift",
        "tidegate.alert.value_drift",
        "tidegate.alert.value_drift",
    ]
    assert {e["resource"]["prefect.resource.id"] for e in emitted} == {"tidegate.source.sales"}


def test_each_batch_stores_a_profile(store: Store) -> None:
    run_batch(store, DRIFT, sales_rows(first_id=100), name="feb")
    rows = query(store, 'SELECT source, batch_id, profile FROM profiles ORDER BY "at"')
    assert len(rows) == 2
    profile = json.loads(rows[0][2])
    assert profile["rows_in"] == 40
    assert profile["headers"] == ["sale_id", "region", "amount", "qty"]
    amount = profile["columns"]["amount"]
    assert amount["kind"] == "numeric" and amount["null_rate"] == pytest.approx(0.1)
    assert {"count", "mean", "std", "min", "max"} <= set(amount)
    region = profile["columns"]["region"]
    assert sorted(v for v, _ in region["top"]) == ["east", "north", "south"]


def test_a_new_category_is_named(store: Store) -> None:
    rows = sales_rows(first_id=100)
    for row in rows[:5]:
        row["region"] = "west"
    alerts, _, _ = run_batch(store, DRIFT, rows, name="feb")
    assert summary(alerts) == {("value_drift", "region", "new_categories")}
    assert alerts[0].detail["values"] == ["west"]


def test_a_renamed_column_is_one_alert_not_missing_plus_new(store: Store) -> None:
    rows = sales_rows(first_id=100, null_every=10, rename={"region": "sales_area"})
    alerts, _, _ = run_batch(store, DRIFT, rows, name="feb")
    assert summary(alerts) == {("schema_drift", "sales_area", "renamed")}
    assert alerts[0].detail["renamed_from"] == "region"
    assert "similar values" in alerts[0].message


def test_a_dropped_column_is_missing(store: Store) -> None:
    alerts, _, _ = run_batch(
        store, DRIFT, sales_rows(first_id=100, null_every=10, drop=("qty",)), name="feb"
    )
    assert summary(alerts) == {("schema_drift", "qty", "missing")}


def test_monitoring_the_same_batch_again_raises_nothing(store: Store) -> None:
    from tidegate.monitor import monitor_batch

    rows = sales_rows(first_id=200, amount_base=200, extra={"promo_code": "X"})
    alerts, outcome, routed = run_batch(store, DRIFT, rows, name="mar")
    assert alerts
    assert monitor_batch(store, DRIFT, routed, outcome) == []
    assert len(query(store, "SELECT 1 FROM audit WHERE event = 'alert_raised'")) == len(alerts)
