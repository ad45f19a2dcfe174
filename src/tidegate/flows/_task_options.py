"""The options of every Prefect task that touches the store or a source: no result
cache, and retries for transient errors only (a locked store, a source that timed out)."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

from tidegate.errors import transient_only

TASK_OPTIONS: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "retries": 3,
    "retry_delay_seconds": [1, 2, 4],
    "retry_condition_fn": transient_only,
}
