"""Quarantine ratio and row count: an alert strictly beyond a bound, none at it."""

from __future__ import annotations

import pytest

from monitor._support import run_batch, sales_rows, summary
from tidegate.monitor import MonitorConfig, RowCountConfig
from tidegate.monitor._alert import BatchRef
from tidegate.monitor._checks import check_quarantine_ratio, check_row_count
from tidegate.store import Store

REF = BatchRef("sales", "sales-1", "mem.csv")


@pytest.mark.parametrize(("quarantined", "fires"), [(0, False), (2, False), (3, True), (10, True)])
def test_quarantine_ratio_fires_only_above_the_threshold(quarantined: int, fires: bool) -> None:
    config = MonitorConfig(max_quarantine_ratio=0.2)
    alerts = check_quarantine_ratio(config, 10, quarantined, REF)
    assert bool(alerts) is fires
    if fires:
        assert alerts[0].kind == "quarantine_ratio"
        assert alerts[0].threshold == 0.2
        assert alerts[0].measured == pytest.approx(quarantined / 10)


@pytest.mark.parametrize(
    ("rows_in", "expected"),
    [(9, {"min"}), (10, set()), (15, set()), (20, set()), (21, {"max"})],
)
def test_row_count_absolute_bounds(rows_in: int, expected: set[str]) -> None:
    alerts = check_row_count(RowCountConfig(min=10, max=20), rows_in, [], REF)
    assert {a.detail["check"] for a in alerts} == expected


@pytest.mark.parametrize(
    ("rows_in", "fires"), [(4, True), (5, False), (10, False), (20, False), (21, True)]
)
def test_row_count_against_the_recent_median(rows_in: int, fires: bool) -> None:
    recent = [{"rows_in": n} for n in (8, 10, 12)]  # median 10, x2 -> 5 .. 20
    alerts = check_row_count(RowCountConfig(vs_recent=2.0), rows_in, recent, REF)
    assert bool(alerts) is fires
    if fires:
        assert alerts[0].detail == {"check": "vs_recent", "recent_median": 10}


def test_row_count_without_history_only_checks_absolute_bounds() -> None:
    assert check_row_count(RowCountConfig(vs_recent=2.0), 1_000_000, [], REF) == []


def test_thresholds_through_monitor_batch(store: Store) -> None:
    """The ratio counts the committed outcome (3 bad qty of 20 rows = 0.15)."""
    at_bound = MonitorConfig(max_quarantine_ratio=0.15, row_count=RowCountConfig(min=20, max=20))
    alerts, outcome, _ = run_batch(store, at_bound, sales_rows(20, bad_qty=3), name="a")
    assert (outcome.rows_in, outcome.quarantined) == (20, 3)
    assert alerts == []

    below = MonitorConfig(
        max_quarantine_ratio=0.14,
        row_count=RowCountConfig(min=21, max=100, vs_recent=1.5),
    )
    alerts, _, _ = run_batch(store, below, sales_rows(20, first_id=100, bad_qty=3), name="b")
    assert summary(alerts) == {
        ("quarantine_ratio", None, None),
        ("row_count", None, "min"),
    }

    alerts, _, _ = run_batch(store, below, sales_rows(60, first_id=200), name="c")
    assert summary(alerts) == {("row_count", None, "vs_recent")}


def test_no_config_saves_the_profile_and_raises_nothing(store: Store) -> None:
    from helpers import scalar

    alerts, _, _ = run_batch(store, None, sales_rows(5, bad_qty=5), name="a")
    assert alerts == []
    assert scalar(store, "SELECT count(*) FROM profiles") == 1
