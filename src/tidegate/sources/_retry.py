"""Retry policy for calls to outside systems: exponential backoff, jitter, Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` calls in all; waits ``backoff * 2**(n-1)`` (capped) with jitter."""

    max_attempts: int = 4
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    retry_after_max_seconds: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Wait before attempt ``attempt + 1``: full exponential step, 50-100% jitter."""
        step = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return step * (0.5 + 0.5 * (rng or random).random())

    def wait(self, attempt: int, retry_after: str | None, now: datetime | None = None) -> float:
        """The wait before the next attempt: Retry-After when given (capped), else backoff."""
        honoured = parse_retry_after(retry_after, now)
        if honoured is not None:
            return min(honoured, self.retry_after_max_seconds)
        return self.backoff(attempt)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
