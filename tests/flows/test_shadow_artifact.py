"""The flow's per-run summary artifact has a ``shadow`` column when the pipeline names a
shadow (the run summary's line), and none otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from tidegate.flows import _artifacts
from tidegate.store import BatchOutcome

SHADOW = {
    "contract": "schemas/sales.v2.yaml",
    "version": 2,
    "newly_passed": 1,
    "newly_failed": 2,
    "newly_failed_by_rule": {"amount.le": 2},
    "samples": {"newly_failed": [4, 5], "newly_passed": [3]},
    "held": None,
}


def published(monkeypatch: pytest.MonkeyPatch, outcomes: list[BatchOutcome]) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(_artifacts, "create_table_artifact", lambda **kw: calls.append(kw))
    _artifacts.publish_summary("sales", outcomes)
    (call,) = calls
    return list(call["table"])


def test_a_shadowed_run_has_a_shadow_column(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = [
        BatchOutcome("sales", "a.csv", "b1", "batch_committed", shadow=SHADOW),
        BatchOutcome("sales", "b.csv", "b2", "file_rejected"),
    ]
    first, second = published(monkeypatch, outcomes)
    assert first["shadow"] == (
        "shadow schemas/sales.v2.yaml (v2): +1 would pass, \u22122 would fail (amount.le 2); "
        "samples: records 4, 5; would pass: records 3"
    )
    assert second["shadow"] == ""


def test_a_run_without_shadow_has_no_shadow_column(monkeypatch: pytest.MonkeyPatch) -> None:
    (row,) = published(monkeypatch, [BatchOutcome("sales", "a.csv", "b1", "batch_committed")])
    assert "shadow" not in row and row["batch_id"] == "b1"
