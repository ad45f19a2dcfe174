"""The ``schedule:``, ``concurrency:`` and ``retries:`` keys of a pipeline file.

Parsing and next-run arithmetic import neither Prefect nor DuckDB, so
``tidegate pipelines list`` stays fast. Interval schedules are anchored at
``INTERVAL_ANCHOR`` in the schedule's timezone (``interval: 1h`` runs on the hour),
both here and in the Prefect deployments built by ``tidegate.flows._deploy``, so the next run
shown by ``pipelines list`` is the one Prefect will schedule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tidegate.errors import PipelineError

SCHEDULE_KEYS = ("cron", "interval", "timezone")
CONCURRENCY_KEYS = ("limit", "on_busy")
ON_BUSY = ("wait", "skip")
MAX_RETRIES = 10
INTERVAL_ANCHOR = datetime(2020, 1, 1)  # naive; localized to the schedule's timezone
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"^(?:\d+[smhd])+$")


@dataclass(frozen=True)
class ScheduleSpec:
    """When a pipeline runs: a cron expression or an interval, in a timezone."""

    cron: str | None = None
    interval_seconds: float | None = None
    timezone: str = "UTC"

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron} ({self.timezone})"
        return f"every {format_duration(self.interval_seconds or 0)} ({self.timezone})"

    def anchor(self) -> datetime:
        return INTERVAL_ANCHOR.replace(tzinfo=ZoneInfo(self.timezone))

    def next_run(self, now: datetime | None = None) -> datetime:
        """The first scheduled time strictly after ``now`` (aware, in the schedule's timezone)."""
        tz = ZoneInfo(self.timezone)
        current = (now or datetime.now(tz)).astimezone(tz)
        if self.cron is not None:
            # Walk wall-clock times, as Prefect's server does: a time that does not exist
            # (the hour skipped when DST starts) is skipped, not moved.
            for naive in _cron_iter(self.cron, current.replace(tzinfo=None)):
                aware = naive.replace(tzinfo=tz)
                exists = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive
                if exists and aware > current:
                    return aware
            raise AssertionError("unreachable: a valid cron fires again")  # pragma: no cover
        step = float(self.interval_seconds or 0)
        anchor = self.anchor()
        elapsed = (current - anchor).total_seconds()
        periods = math.floor(elapsed / step) + 1
        return (anchor + timedelta(seconds=periods * step)).astimezone(tz)


@dataclass(frozen=True)
class ConcurrencyConfig:
    """How many runs of one source at a time, and what a run that finds one busy does."""

    limit: int = 1
    on_busy: str = "wait"  # wait | skip

    def describe(self) -> str:
        return f"{self.limit} at a time, {self.on_busy} when busy"


def _cron_iter(cron: str, start: datetime) -> Iterator[datetime]:
    """Times after ``start``. cronsim is small and loads fast (Prefect's server
    depends on it); without it, Prefect's vendored croniter, which imports Prefect."""
    try:
        from cronsim import CronSim
    except ImportError:  # pragma: no cover - cronsim comes with prefect's server
        from prefect._vendor.croniter import croniter

        it = croniter(cron, start)
        return iter(lambda: it.get_next(datetime), None)
    return iter(CronSim(cron, start))


def _cron_is_valid(cron: str) -> bool:
    if len(cron.split()) != 5:
        return False
    try:
        next(_cron_iter(cron, datetime(2020, 1, 1)))
    except Exception:  # CronSimError, or croniter's errors
        return False
    return True


def _refuse(path: Path, key: str, value: object, valid: str) -> PipelineError:
    return PipelineError(f"{path}: {key}: {value!r} is not valid; expected {valid}")


def format_duration(seconds: float) -> str:
    whole = int(seconds)
    if whole != seconds or whole == 0:
        return f"{seconds}s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts)


def parse_duration(path: Path, key: str, value: object) -> float:
    valid = 'a number of seconds (3600) or a duration like "15m", "1h", "1h30m", "2d"'
    if isinstance(value, bool):
        raise _refuse(path, key, value, valid)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION_RE.match(value.strip().lower()):
        seconds = float(
            sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", value.lower()))
        )
    else:
        raise _refuse(path, key, value, valid)
    if not math.isfinite(seconds) or seconds <= 0:
        raise _refuse(path, key, value, "a duration greater than zero")
    return seconds


def parse_schedule(path: Path, value: object) -> ScheduleSpec | None:
    """``schedule: {cron: "0 * * * *", timezone: Europe/Berlin}`` or ``{interval: 3600}``."""
    if value is None:
        return None
    example = '{cron: "0 * * * *", timezone: Europe/Berlin} or {interval: 3600} or {interval: 15m}'
    if not isinstance(value, dict):
        raise _refuse(path, "schedule", value, f"a mapping such as {example}")
    for key in value:
        if key not in SCHEDULE_KEYS:
            raise _refuse(path, f"schedule.{key}", value[key], f"one of {', '.join(SCHEDULE_KEYS)}")
    if ("cron" in value) == ("interval" in value):
        raise _refuse(path, "schedule", value, f"exactly one of cron or interval, e.g. {example}")
    timezone = value.get("timezone", "UTC")
    if not isinstance(timezone, str) or not timezone:
        raise _refuse(path, "schedule.timezone", timezone, "an IANA name like Europe/Berlin")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _refuse(
            path, "schedule.timezone", timezone, "an IANA timezone name like Europe/Berlin or UTC"
        ) from exc
    if "cron" in value:
        cron = value["cron"]
        if not isinstance(cron, str) or not _cron_is_valid(cron):
            raise _refuse(
                path,
                "schedule.cron",
                cron,
                'a cron expression of five fields, minute hour day month weekday, e.g. "0 * * * *"',
            )
        return ScheduleSpec(cron=cron.strip(), timezone=timezone)
    seconds = parse_duration(path, "schedule.interval", value["interval"])
    return ScheduleSpec(interval_seconds=seconds, timezone=timezone)


def parse_concurrency(path: Path, value: object) -> ConcurrencyConfig:
    """``concurrency: {limit: 1, on_busy: wait | skip}``; default one run at a time, wait."""
    if value is None:
        return ConcurrencyConfig()
    if not isinstance(value, dict):
        raise _refuse(path, "concurrency", value, "a mapping such as {limit: 1, on_busy: wait}")
    for key in value:
        if key not in CONCURRENCY_KEYS:
            raise _refuse(
                path, f"concurrency.{key}", value[key], f"one of {', '.join(CONCURRENCY_KEYS)}"
            )
    limit = value.get("limit", 1)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise _refuse(path, "concurrency.limit", limit, "a whole number of runs, 1 or more")
    on_busy = value.get("on_busy", "wait")
    if on_busy not in ON_BUSY:
        raise _refuse(
            path,
            "concurrency.on_busy",
            on_busy,
            "wait (queue the new run until the running one ends) or skip (drop the new run)",
        )
    return ConcurrencyConfig(limit=limit, on_busy=str(on_busy))


def parse_retries(path: Path, value: object) -> int:
    """``retries: N``: how often Prefect retries a failed flow run (0 to 10)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise _refuse(path, "retries", value, f"a whole number from 0 to {MAX_RETRIES}")
    return value
