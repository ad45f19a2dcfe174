"""Webhook delivery: the alert JSON arrives; a failing receiver is retried in the
background, the caller returns at once, and the final failure is audited."""

from __future__ import annotations

import json

import pytest

from helpers import query
from monitor._support import free_port, run_batch, sales_rows, webhook_receiver
from tidegate.monitor import MonitorConfig, WebhookConfig, wait_for_deliveries
from tidegate.store import Store


def config(url: str, **webhook: float) -> MonitorConfig:
    return MonitorConfig(max_quarantine_ratio=0.1, webhook=WebhookConfig(url=url, **webhook))


def failed_deliveries(store: Store) -> list[dict[str, object]]:
    rows = query(store, "SELECT detail FROM audit WHERE event = 'alert_delivery_failed'")
    return [json.loads(r[0]) for r in rows]


def test_the_receiver_gets_the_alert_json(store: Store) -> None:
    with webhook_receiver(200) as receiver:
        alerts, outcome, _ = run_batch(
            store, config(receiver.url), sales_rows(10, bad_qty=5), name="a"
        )
        assert receiver.wait_for(1)
        assert wait_for_deliveries(10)
    assert [a.kind for a in alerts] == ["quarantine_ratio"]
    body = receiver.bodies[0]
    assert body["event"] == "tidegate.alert.quarantine_ratio"
    assert body["kind"] == "quarantine_ratio"
    assert (body["source"], body["batch_id"]) == ("sales", outcome.batch_id)
    assert (body["measured"], body["threshold"]) == (0.5, 0.1)
    assert len(receiver.bodies) == 1, "a 2xx answer is not retried"
    assert failed_deliveries(store) == []


def test_a_failing_receiver_is_retried_without_blocking_the_caller(store: Store) -> None:
    with webhook_receiver(500) as receiver:
        receiver.answer.clear()  # the first attempt is held until the caller has returned
        cfg = config(receiver.url, retries=3, backoff_s=0.3, timeout_s=60)
        alerts, _, _ = run_batch(store, cfg, sales_rows(10, bad_qty=5), name="a")
        assert alerts
        # the caller is back while its delivery still waits for an answer: it never waited
        assert not wait_for_deliveries(0), "monitor_batch waited for the webhook"
        assert len(receiver.bodies) <= 1 and failed_deliveries(store) == []
        receiver.answer.set()
        assert wait_for_deliveries(60)
    assert len(receiver.bodies) == 4, "one attempt and three retries"
    gaps = [b - a for a, b in zip(receiver.times, receiver.times[1:], strict=False)]
    assert gaps[0] >= 0.25 and gaps[2] >= 1.1, f"backoff is not exponential: {gaps}"
    (failure,) = failed_deliveries(store)
    assert failure["attempts"] == 4
    assert failure["kind"] == "quarantine_ratio"
    assert "500" in str(failure["errors"])


@pytest.mark.parametrize("receiver_kind", ["nothing listening", "too slow to answer"])
def test_an_unreachable_receiver_is_recorded_after_the_last_retry(
    store: Store, receiver_kind: str
) -> None:
    def run(url: str) -> None:  # the caller not waiting: the test above
        cfg = config(url, retries=2, backoff_s=0.05, timeout_s=0.3)
        run_batch(store, cfg, sales_rows(10, bad_qty=5), name="a")

    if receiver_kind == "nothing listening":
        run(f"http://127.0.0.1:{free_port()}/hook")
        assert wait_for_deliveries(15)
    else:
        with webhook_receiver(200, delay=2.0) as receiver:
            run(receiver.url)
            assert wait_for_deliveries(15)
        assert len(receiver.bodies) == 3
    (failure,) = failed_deliveries(store)
    assert failure["attempts"] == 3
