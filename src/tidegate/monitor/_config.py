"""The ``monitor:`` section of a pipeline file, parsed and checked.

Loading it imports neither polars nor Prefect, so pipeline files stay cheap to read.
A mistake is refused with the file, the key (dotted, e.g. ``monitor.row_count.min``),
the value found and what would be valid.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidegate.errors import PipelineError

MONITOR_KEYS = (
    "max_quarantine_ratio",
    "row_count",
    "schema_drift",
    "value_drift",
    "recent_batches",
    "webhook",
)
ROW_COUNT_KEYS = ("min", "max", "vs_recent")
VALUE_DRIFT_KEYS = ("null_rate", "new_categories", "mean_shift", "ignore")
WEBHOOK_KEYS = ("url", "retries", "timeout_s", "backoff_s")


@dataclass(frozen=True)
class RowCountConfig:
    min: int | None = None  # alert when rows_in < min
    max: int | None = None  # alert when rows_in > max
    vs_recent: float | None = None  # alert when rows_in > k * median or < median / k


@dataclass(frozen=True)
class ValueDriftConfig:
    null_rate: float | None = None  # alert when |null rate - recent null rate| > this
    new_categories: bool = False  # alert on values never seen in a categorical column
    mean_shift: float | None = None  # alert when |mean - recent mean| > this * recent std
    ignore: tuple[str, ...] = ()  # columns left out of value drift (ids, free text)


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    retries: int = 3  # retries after the first attempt
    timeout_s: float = 5.0
    backoff_s: float = 0.5  # wait before retry n: backoff_s * 2 ** (n - 1)


@dataclass(frozen=True)
class MonitorConfig:
    max_quarantine_ratio: float | None = None
    row_count: RowCountConfig = field(default_factory=RowCountConfig)
    schema_drift: bool = False
    value_drift: ValueDriftConfig = field(default_factory=ValueDriftConfig)
    recent_batches: int = 5
    webhook: WebhookConfig | None = None


class _Reader:
    """Reads one mapping of the section, refusing bad keys and values by their dotted key."""

    def __init__(self, path: Path, prefix: str, data: object, keys: tuple[str, ...]) -> None:
        self.path, self.prefix = path, prefix
        if not isinstance(data, dict):
            raise self.refuse("", data, "a mapping with keys " + ", ".join(keys))
        for key in data:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.refuse(str(key), data[key], f"one of {', '.join(keys)}{hint}")
        self.data: dict[str, Any] = data

    def refuse(self, key: str, value: object, valid: str) -> PipelineError:
        dotted = f"{self.prefix}.{key}" if key else self.prefix
        return PipelineError(f"{self.path}: {dotted}: {value!r} is not valid; expected {valid}")

    def number(
        self, key: str, *, low: float = 0.0, high: float | None = None, strict: bool = False
    ) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        bad = isinstance(value, bool) or not isinstance(value, int | float)
        if not bad:
            bad = value <= low if strict else value < low
            bad = bad or (high is not None and value > high)
        if bad:
            span = f"{'>' if strict else '>='} {low:g}" + (f" and <= {high:g}" if high else "")
            raise self.refuse(key, value, f"a number {span}")
        return float(value)

    def integer(self, key: str, *, low: int = 0) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.refuse(key, value, f"a whole number >= {low}")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self.refuse(key, value, "true or false")
        return value


def _row_count(path: Path, data: object) -> RowCountConfig:
    r = _Reader(path, "monitor.row_count", data, ROW_COUNT_KEYS)
    low, high = r.integer("min"), r.integer("max")
    if low is not None and high is not None and low > high:
        raise r.refuse("min", low, f"a number <= max ({high})")
    return RowCountConfig(min=low, max=high, vs_recent=r.number("vs_recent", low=1.0, strict=True))


def _value_drift(path: Path, data: object) -> ValueDriftConfig:
    if data is True:  # shorthand: every check on, with default thresholds
        return ValueDriftConfig(null_rate=0.2, new_categories=True, mean_shift=3.0)
    if data is False:
        return ValueDriftConfig()
    r = _Reader(path, "monitor.value_drift", data, VALUE_DRIFT_KEYS)
    ignore = r.data.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise r.refuse("ignore", ignore, "a list of column names, e.g. [order_id]")
    return ValueDriftConfig(
        null_rate=r.number("null_rate", high=1.0),
        new_categories=r.flag("new_categories"),
        mean_shift=r.number("mean_shift", strict=True),
        ignore=tuple(ignore),
    )


def _webhook(path: Path, data: object) -> WebhookConfig:
    if isinstance(data, str):
        data = {"url": data}
    r = _Reader(path, "monitor.webhook", data, WEBHOOK_KEYS)
    url = r.data.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise r.refuse("url", url, "an http:// or https:// URL")
    retries = r.integer("retries")
    timeout = r.number("timeout_s", strict=True)
    backoff = r.number("backoff_s")
    return WebhookConfig(
        url=url,
        retries=3 if retries is None else retries,
        timeout_s=5.0 if timeout is None else timeout,
        backoff_s=0.5 if backoff is None else backoff,
    )


def parse_monitor(path: Path, data: object) -> MonitorConfig:
    """Check and parse a pipeline file's ``monitor:`` mapping."""
    r = _Reader(path, "monitor", data, MONITOR_KEYS)
    recent = r.integer("recent_batches", low=1)
    webhook = r.data.get("webhook")
    return MonitorConfig(
        max_quarantine_ratio=r.number("max_quarantine_ratio", high=1.0),
        row_count=_row_count(path, r.data.get("row_count") or {}),
        schema_drift=r.flag("schema_drift"),
        value_drift=_value_drift(path, r.data.get("value_drift") or {}),
        recent_batches=5 if recent is None else recent,
        webhook=None if webhook is None else _webhook(path, webhook),
    )
