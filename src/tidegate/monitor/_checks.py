"""Threshold checks on one batch: quarantine ratio, row count, value drift.

Each check is a pure function of the configuration, the batch's profile and the
profiles of the source's recent batches (newest first); it returns the alerts.
A bound is breached when the measure is strictly beyond it: a ratio equal to
``max_quarantine_ratio`` or a count equal to ``min``/``max`` raises nothing.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from tidegate.monitor._alert import Alert, BatchRef
from tidegate.monitor._config import MonitorConfig, RowCountConfig, ValueDriftConfig
from tidegate.monitor._profile import CATEGORY_SHARE, TOP_VALUES

Profile = dict[str, Any]
SHOWN_VALUES = 10


def check_quarantine_ratio(
    config: MonitorConfig, rows_in: int, quarantined: int, ref: BatchRef
) -> list[Alert]:
    limit = config.max_quarantine_ratio
    if limit is None or rows_in <= 0:
        return []
    ratio = quarantined / rows_in
    if ratio <= limit:
        return []
    return [
        ref.alert(
            "quarantine_ratio",
            round(ratio, 6),
            limit,
            f"quarantine ratio {ratio:.3f} ({quarantined} of {rows_in} rows) is above "
            f"monitor.max_quarantine_ratio {limit}",
            quarantined=quarantined,
            rows_in=rows_in,
        )
    ]


def check_row_count(
    config: RowCountConfig, rows_in: int, recent: list[Profile], ref: BatchRef
) -> list[Alert]:
    alerts: list[Alert] = []
    if config.min is not None and rows_in < config.min:
        alerts.append(
            ref.alert(
                "row_count",
                rows_in,
                config.min,
                f"{rows_in} rows is below monitor.row_count.min {config.min}",
                check="min",
            )
        )
    if config.max is not None and rows_in > config.max:
        alerts.append(
            ref.alert(
                "row_count",
                rows_in,
                config.max,
                f"{rows_in} rows is above monitor.row_count.max {config.max}",
                check="max",
            )
        )
    factor = config.vs_recent
    counts = [int(p["rows_in"]) for p in recent if p.get("rows_in") is not None]
    if factor is None or not counts:
        return alerts
    median = statistics.median(counts)
    if median > 0 and not median / factor <= rows_in <= median * factor:
        alerts.append(
            ref.alert(
                "row_count",
                rows_in,
                factor,
                f"{rows_in} rows is more than {factor:g}x away from the median {median:g} "
                f"of the last {len(counts)} batches (monitor.row_count.vs_recent)",
                check="vs_recent",
                recent_median=median,
            )
        )
    return alerts


def _stats(recent: list[Profile], column: str) -> list[tuple[Profile, dict[str, Any]]]:
    return [(p, p["columns"][column]) for p in recent if column in p.get("columns", {})]


def _null_rate(
    config: ValueDriftConfig, column: str, now: dict[str, Any], past: list, ref: BatchRef
) -> list[Alert]:
    if config.null_rate is None or "null_rate" not in now:
        return []
    weights = [
        (max(int(p.get("rows_in") or 0), 1), s["null_rate"]) for p, s in past if "null_rate" in s
    ]
    if not weights:  # only profiles caught up after a kill, which have no null rates
        return []
    baseline = sum(w * r for w, r in weights) / sum(w for w, _ in weights)
    delta = now["null_rate"] - baseline
    if abs(delta) <= config.null_rate:
        return []
    return [
        ref.alert(
            "value_drift",
            round(delta, 6),
            config.null_rate,
            f"null rate of {column} went from {baseline:.3f} to {now['null_rate']:.3f} "
            f"(change {delta:+.3f}, monitor.value_drift.null_rate {config.null_rate})",
            check="null_rate",
            column=column,
            current=now["null_rate"],
            baseline=baseline,
        )
    ]


def _pooled(past: list[dict[str, Any]]) -> tuple[int, float, float] | None:
    """Count, mean and standard deviation of the recent batches taken together."""
    parts = [(s["count"], s["mean"], s.get("std") or 0.0) for s in past if "mean" in s]
    n = sum(c for c, _, _ in parts)
    if n < 2:
        return None
    mean = sum(c * m for c, m, _ in parts) / n
    squares = sum((c - 1) * sd**2 + c * m**2 for c, m, sd in parts)
    return n, mean, math.sqrt(max(squares - n * mean**2, 0.0) / (n - 1))


def _mean_shift(
    config: ValueDriftConfig, column: str, now: dict[str, Any], past: list, ref: BatchRef
) -> list[Alert]:
    if config.mean_shift is None or now.get("kind") != "numeric" or "mean" not in now:
        return []
    pooled = _pooled([s for _, s in past if s.get("kind") == "numeric"])
    if pooled is None or pooled[2] <= 0:
        return []
    _, mean, std = pooled
    shift = abs(now["mean"] - mean) / std
    if shift <= config.mean_shift:
        return []
    return [
        ref.alert(
            "value_drift",
            round(shift, 6),
            config.mean_shift,
            f"mean of {column} moved from {mean:.4g} to {now['mean']:.4g}, {shift:.1f} "
            f"standard deviations (monitor.value_drift.mean_shift {config.mean_shift:g})",
            check="mean_shift",
            column=column,
            current=now["mean"],
            baseline=mean,
            baseline_std=std,
        )
    ]


def _is_categorical(stats: dict[str, Any]) -> bool:
    distinct, count = stats.get("n_distinct", 0), stats.get("count", 0)
    return (
        stats.get("kind") == "string"
        and "top" in stats
        and count > 0
        and distinct <= TOP_VALUES
        and distinct <= CATEGORY_SHARE * count
    )


def _new_categories(
    config: ValueDriftConfig, column: str, now: dict[str, Any], past: list, ref: BatchRef
) -> list[Alert]:
    if not config.new_categories or now.get("kind") != "string":
        return []
    if not all(_is_categorical(s) for _, s in past):
        return []
    known = {v for _, s in past for v, _ in s["top"]}
    new = [v for v, _ in now.get("top", []) if v not in known]
    if not new:
        return []
    return [
        ref.alert(
            "value_drift",
            len(new),
            0,
            f"{column} has {len(new)} value(s) not seen in the recent batches: "
            + ", ".join(repr(v) for v in new[:SHOWN_VALUES]),
            check="new_categories",
            column=column,
            values=new[:SHOWN_VALUES],
        )
    ]


def check_value_drift(
    config: ValueDriftConfig, profile: Profile, recent: list[Profile], ref: BatchRef
) -> list[Alert]:
    """Null rate, new categories and mean shift, per column seen in a recent batch."""
    alerts: list[Alert] = []
    for column, now in profile.get("columns", {}).items():
        past = _stats(recent, column)
        if column in config.ignore or not past:
            continue
        for check in (_null_rate, _new_categories, _mean_shift):
            alerts += check(config, column, now, past, ref)
    return alerts
