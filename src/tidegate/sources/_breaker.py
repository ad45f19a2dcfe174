"""A circuit breaker per host: after N consecutive failures, fail fast for a cool-down.

States: closed (calls go through), open (calls fail at once until the cool-down ends),
half-open (one trial call after the cool-down: success closes, failure opens again).
Breakers live in a process-wide registry keyed by ``host:port``, so every source that
talks to one host shares what it learned about that host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tidegate.errors import CircuitOpenError


@dataclass
class CircuitBreaker:
    host: str
    failure_threshold: int = 5
    cooldown_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() - self.opened_at < self.cooldown_seconds else "half-open"

    def before_call(self) -> None:
        """Raise CircuitOpenError while the circuit is open; let a call through otherwise."""
        with self._lock:
            if self.opened_at is None:
                return
            remaining = self.cooldown_seconds - (self.clock() - self.opened_at)
            if remaining > 0:
                raise CircuitOpenError(
                    f"circuit open for host {self.host}: {self.failures} consecutive "
                    f"failures; failing fast for another {remaining:.1f}s of a "
                    f"{self.cooldown_seconds:g}s cool-down (no request was sent; the next run "
                    "after the cool-down tries one request)"
                )

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self.opened_at = self.clock()


_REGISTRY: dict[str, CircuitBreaker] = {}
_REGISTRY_LOCK = threading.Lock()


def breaker_for(host: str, failure_threshold: int, cooldown_seconds: float) -> CircuitBreaker:
    """The shared breaker of ``host``; its settings follow the latest source that asks."""
    with _REGISTRY_LOCK:
        breaker = _REGISTRY.get(host)
        if breaker is None:
            breaker = CircuitBreaker(host, failure_threshold, cooldown_seconds)
            _REGISTRY[host] = breaker
        breaker.failure_threshold = failure_threshold
        breaker.cooldown_seconds = cooldown_seconds
        return breaker


def reset_breakers() -> None:
    """Forget every host's breaker (tests; a process that knows the hosts recovered)."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()
