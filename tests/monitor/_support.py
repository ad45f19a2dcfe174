"""Monitoring test support: a small contract, generated batches, a local webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers import make_raw, process
from tidegate.batches import RoutedBatch
from tidegate.contracts import Contract, contract_from_dict
from tidegate.monitor import Alert, MonitorConfig, monitor_batch
from tidegate.store import BatchOutcome, Store, commit_batch

REGIONS = ("north", "south", "east")

SALES_CONTRACT: dict[str, Any] = {
    "source": "sales",
    "version": 1,
    "primary_key": ["sale_id"],
    "normalize": {"null_values": ["", "N/A"], "trim": True},
    "columns": {
        "sale_id": {"type": "int64", "nullable": False},
        "region": {"type": "string", "checks": [{"isin": ["north", "south", "east", "west"]}]},
        "amount": {"type": "float64", "checks": [{"ge": 0}]},
        "qty": {"type": "int64", "checks": [{"ge": 1}]},
    },
    "policy": {"on_row_failure": "quarantine", "max_quarantine_ratio": 1.0},
}


def sales_contract() -> Contract:
    return contract_from_dict(SALES_CONTRACT)


def sales_rows(
    n: int = 40,
    *,
    first_id: int = 1,
    amount_base: float = 100.0,
    null_every: int = 0,
    bad_qty: int = 0,
    extra: dict[str, str] | None = None,
    rename: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> list[dict[str, str | None]]:
    """``n`` sales: amounts base-10 .. base+10, regions in turn, every ``null_every``-th
    amount empty, the first ``bad_qty`` rows with qty 0 (quarantined)."""
    rows = []
    for i in range(n):
        row: dict[str, str | None] = {
            "sale_id": str(first_id + i),
            "region": REGIONS[i % 3],
            "amount": "" if null_every and i % null_every == 0 else f"{amount_base + i % 21 - 10}",
            "qty": "0" if i < bad_qty else str(1 + i % 4),
            **(extra or {}),
        }
        for old, new in (rename or {}).items():
            row[new] = row.pop(old)
        for column in drop:
            row.pop(column)
        rows.append(row)
    return rows


def run_batch(
    store: Store,
    config: MonitorConfig | None,
    rows: list[dict[str, str | None]],
    *,
    name: str,
) -> tuple[list[Alert], BatchOutcome, RoutedBatch]:
    """Route, commit and monitor one in-memory batch, the way the flow does."""
    contract = sales_contract()
    sha = (name.encode().hex() * 64)[:64]
    raw = make_raw(rows, source="sales", location=f"{name}.csv", sha=sha)
    routed = process(raw, contract)
    outcome = commit_batch(store, routed, contract)
    return monitor_batch(store, config, routed, outcome, contract), outcome, routed


def summary(alerts: list[Alert]) -> set[tuple[str, str | None, str | None]]:
    """(kind, column, check or change) per alert, the shape most tests compare."""
    return {
        (a.kind, a.detail.get("column"), a.detail.get("check") or a.detail.get("change"))
        for a in alerts
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Receiver:
    """What a local webhook receiver got."""

    url: str
    status: int
    bodies: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    # set: answer at once; cleared: every answer waits until it is set (a receiver that
    # holds the request, so a caller that waited for the delivery would still be waiting)
    answer: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.bodies) >= n


@contextmanager
def webhook_receiver(status: int = 200, delay: float = 0.0) -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 (a free port) answering every POST with ``status``."""
    receiver = Receiver(url="", status=status)
    receiver.answer.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            receiver.bodies.append(json.loads(self.rfile.read(length)))
            receiver.times.append(time.monotonic())
            if delay:
                time.sleep(delay)
            receiver.answer.wait(60)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
