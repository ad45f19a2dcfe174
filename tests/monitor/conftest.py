"""Monitoring fixtures: Prefect events recorded instead of sent, deliveries drained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tidegate.monitor import wait_for_deliveries


@pytest.fixture(autouse=True)
def emitted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Every tidegate event (``tidegate.*``) emitted through ``prefect.events.emit_event``
    by the test, as its keyword arguments (Prefect's own task-run events, which newer
    Prefect versions emit through the same function, are left out)."""
    import prefect.events

    calls: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> None:
        if str(kwargs.get("event", "")).startswith("tidegate."):
            calls.append(kwargs)

    monkeypatch.setattr(prefect.events, "emit_event", record)
    yield calls
    assert wait_for_deliveries(30), "webhook deliveries still running after the test"
