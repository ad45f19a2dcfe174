"""Post alerts to a webhook in the background, with retries and exponential backoff.

The caller (the flow) never waits: each alert is delivered by its own thread. The
threads are not daemons, so a process that ends right after its flow still
finishes the deliveries it started (at most ``retries + 1`` attempts, each bounded
by ``timeout_s``). Every outcome is logged on the ``tidegate.monitor`` logger; a
delivery that fails after the last retry is also written to the audit log as
``alert_delivery_failed``, in its own short transaction.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tidegate.monitor._alert import Alert
from tidegate.monitor._config import WebhookConfig

if TYPE_CHECKING:
    from tidegate.store import Store

log = logging.getLogger("tidegate.monitor")

_pending: set[threading.Thread] = set()
_pending_guard = threading.Lock()


@dataclass
class Delivery:
    """One alert on its way to one webhook; updated by the delivering thread."""

    alert: Alert
    url: str
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event, repr=False)


def webhook_body(alert: Alert) -> bytes:
    return json.dumps({"event": alert.event_name, **alert.as_dict()}, default=str).encode()


def _post_once(url: str, body: bytes, timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "tidegate-monitor"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not a 2xx", response.headers, None)


def _record_failure(store: Store, delivery: Delivery, actor: str | None) -> None:
    from tidegate.store import append_audit, ensure_store_tables, transaction

    try:
        with transaction(store) as con:
            ensure_store_tables(con)
            append_audit(
                con,
                "alert_delivery_failed",
                {
                    "kind": delivery.alert.kind,
                    "url": delivery.url,
                    "attempts": delivery.attempts,
                    "errors": delivery.errors,
                    "alert": delivery.alert.as_dict(),
                },
                source=delivery.alert.source,
                batch_id=delivery.alert.batch_id,
                actor=actor,
            )
    except Exception:
        log.exception("could not audit the failed delivery of %s", delivery.alert.event_name)


def _deliver(store: Store, config: WebhookConfig, delivery: Delivery, actor: str | None) -> None:
    body = webhook_body(delivery.alert)
    try:
        for attempt in range(config.retries + 1):
            if attempt:
                time.sleep(config.backoff_s * 2 ** (attempt - 1))
            delivery.attempts = attempt + 1
            try:
                _post_once(config.url, body, config.timeout_s)
            except Exception as exc:  # refused, timed out, 5xx, bad response: all retried
                delivery.errors.append(f"attempt {attempt + 1}: {exc}")
                log.info("webhook %s attempt %d failed: %s", config.url, attempt + 1, exc)
                continue
            delivery.status = "delivered"
            log.info("alert %s delivered to %s", delivery.alert.event_name, config.url)
            return
        delivery.status = "failed"
        log.warning(
            "alert %s for %s not delivered to %s after %d attempts: %s",
            delivery.alert.event_name,
            delivery.alert.batch_id,
            config.url,
            delivery.attempts,
            delivery.errors[-1] if delivery.errors else "?",
        )
        _record_failure(store, delivery, actor)
    finally:
        delivery.done.set()
        with _pending_guard:
            _pending.discard(threading.current_thread())


def deliver_in_background(
    store: Store, config: WebhookConfig, alerts: list[Alert], *, actor: str | None = None
) -> list[Delivery]:
    """Start delivering each alert and return at once; see :func:`wait_for_deliveries`."""
    deliveries = []
    for alert in alerts:
        delivery = Delivery(alert=alert, url=config.url)
        thread = threading.Thread(
            target=_deliver,
            args=(store, config, delivery, actor),
            name=f"tidegate-webhook-{alert.kind}",
            daemon=False,
        )
        with _pending_guard:
            _pending.add(thread)
        thread.start()
        deliveries.append(delivery)
    return deliveries


def wait_for_deliveries(timeout: float | None = None) -> bool:
    """Wait for every delivery started in this process; True if none is left."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _pending_guard:
            threads = list(_pending)
        if not threads:
            return True
        for thread in threads:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            thread.join(left)
        if deadline is not None and time.monotonic() >= deadline:
            with _pending_guard:
                return not _pending
