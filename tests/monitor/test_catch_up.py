"""A run killed between a batch's commit and its monitor step (issue 17): the next run
of the source profiles that batch and raises its alerts, on both stores, for a file
committed in one piece and for one read in chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import query
from monitor._support import sales_contract, sales_rows
from tidegate.engine import Pipeline
from tidegate.monitor import MonitorConfig
from tidegate.store import Store

# 10 of 40 rows fail `qty >= 1`: a quarantine ratio of 0.25, above the monitor's 0.1
MONITOR = MonitorConfig(max_quarantine_ratio=0.1)


class Killed(BaseException):
    """What a kill -9 looks like to the code after the commit: nothing more runs."""


def _csv(path: Path, rows: list[dict[str, str | None]]) -> Path:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] or "" for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _kill_at_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    import tidegate.monitor

    def killed(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(tidegate.monitor, "monitor_batch", killed)
    monkeypatch.setattr(tidegate.monitor, "monitor_staged", killed)


def _profiles(store: Store) -> dict[str, dict[str, Any]]:
    """Batch id -> profile ({} before the monitor first made its table)."""
    tables = query(
        store,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = 'profiles'",
    )
    if not tables:
        return {}
    return {b: json.loads(p) for b, p in query(store, "SELECT batch_id, profile FROM profiles")}


def _alerts(store: Store) -> list[tuple[str, dict[str, Any]]]:
    rows = query(store, "SELECT batch_id, detail FROM audit WHERE event = 'alert_raised'")
    return [(b, json.loads(d)) for b, d in rows]


@pytest.mark.parametrize("chunk_size", [None, 9], ids=["one-piece", "chunks"])
def test_the_next_run_monitors_a_batch_committed_by_a_killed_run(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int | None
) -> None:
    contract = sales_contract()
    _csv(tmp_path / "jan.csv", sales_rows(bad_qty=10))

    def run(glob: str) -> Any:
        return Pipeline(
            source=str(tmp_path / glob),
            contract=contract,
            store=store,
            monitor=MONITOR,
            chunk_size=chunk_size,
        ).run()

    with monkeypatch.context() as patch:
        _kill_at_monitor(patch)
        with pytest.raises(Killed):
            run("jan.csv")
    (batch_id,) = [b for (b,) in query(store, "SELECT batch_id FROM checkpoints")]
    assert _profiles(store) == {}
    assert _alerts(store) == []

    _csv(tmp_path / "feb.csv", sales_rows(first_id=100))
    result = run("*.csv")
    events = [o.event for o in result.outcomes]
    assert sorted(events) == ["batch_committed", "batch_skipped"]

    profiles = _profiles(store)
    assert len(profiles) == 2 and batch_id in profiles
    caught_up = profiles[batch_id]
    assert caught_up["caught_up"] is True
    assert (caught_up["rows_in"], caught_up["loaded"], caught_up["quarantined"]) == (40, 30, 10)
    assert caught_up["columns"]["amount"]["count"] == 30  # the loaded rows' statistics
    alerts = _alerts(store)
    assert [(b, d["kind"]) for b, d in alerts] == [(batch_id, "quarantine_ratio")]
    assert alerts[0][1]["measured"] == pytest.approx(0.25)

    again = run("*.csv")  # nothing left to catch up: no second profile, no second alert
    assert [o.event for o in again.outcomes] == ["batch_skipped", "batch_skipped"]
    assert len(_profiles(store)) == 2
    assert len(_alerts(store)) == 1


def test_a_caught_up_profile_does_not_trip_later_drift_checks(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caught-up profile has no header and no null rates: the checks after it run
    on what it has, with no schema drift and no crash."""
    from tidegate.monitor import ValueDriftConfig

    contract = sales_contract()
    config = MonitorConfig(
        schema_drift=True, value_drift=ValueDriftConfig(null_rate=0.2, ignore=("sale_id",))
    )

    def run(name: str, rows: list[dict[str, str | None]]) -> Any:
        path = _csv(tmp_path / name, rows)
        return Pipeline(source=str(path), contract=contract, store=store, monitor=config).run()

    with monkeypatch.context() as patch:
        _kill_at_monitor(patch)
        with pytest.raises(Killed):
            run("jan.csv", sales_rows())
    run("jan.csv", sales_rows())  # the skip; the catch-up profiles jan
    result = run("feb.csv", sales_rows(first_id=100))
    assert result.outcomes[0].event == "batch_committed"
    assert _alerts(store) == []
    assert len(_profiles(store)) == 2
