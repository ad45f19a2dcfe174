"""Schema drift: columns new, missing or renamed in the input against recent batches.

A batch's columns are the contract columns its header feeds plus the headers that
feed none, compared folded (case, spaces, ``_`` and ``-`` ignored), so a header the
contract already maps (``OrderID`` -> ``order_id``) is never drift.

- **new**: not seen in any of the recent batches;
- **missing**: seen in every recent batch, absent now;
- **renamed**: a missing and a new column whose names are alike, or whose values
  are (most common values overlap, or numeric means within one standard deviation).
"""

from __future__ import annotations

import difflib
from typing import Any

from tidegate.monitor._alert import Alert, BatchRef
from tidegate.monitor._profile import value_digest
from tidegate.normalize import fold_header

Profile = dict[str, Any]
NAME_SIMILARITY = 0.6
VALUE_OVERLAP = 0.5


def _columns(profile: Profile) -> dict[str, str]:
    """Folded name -> name as shown, for one profile."""
    return {fold_header(c): c for c in profile.get("columns", {})}


def _top(stats: dict[str, Any]) -> set[str]:
    """The digests of a column's most common values: a declared column keeps the
    values, an undeclared one their digests only."""
    return {value_digest(v) for v, _ in stats.get("top", [])} | {
        d for d, _ in stats.get("top_digests", [])
    }


def _alike_values(old: dict[str, Any], new: dict[str, Any]) -> bool:
    numeric = old.get("kind") == new.get("kind") == "numeric"
    if numeric and "mean" in old and "mean" in new:
        spread = old.get("std") or abs(old["mean"]) * 1e-9
        return bool(abs(new["mean"] - old["mean"]) <= spread)
    a, b = _top(old), _top(new)
    return bool(a and b and len(a & b) / min(len(a), len(b)) >= VALUE_OVERLAP)


def _renames(
    missing: list[str], new: list[str], old_stats: dict[str, Any], new_stats: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """Pairs (missing, new, why) that look like one column under a new name, best first."""
    scored = []
    for m in missing:
        for n in new:
            name = difflib.SequenceMatcher(None, m, n).ratio()
            if name >= NAME_SIMILARITY:
                scored.append((1.0 + name, m, n, "similar name"))
            elif _alike_values(old_stats.get(m, {}), new_stats.get(n, {})):
                scored.append((1.0, m, n, "similar values"))
    pairs: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for _, m, n, why in sorted(scored, key=lambda s: -s[0]):
        if m not in used and n not in used:
            pairs.append((m, n, why))
            used |= {m, n}
    return pairs


def check_schema_drift(profile: Profile, recent: list[Profile], ref: BatchRef) -> list[Alert]:
    if not recent:
        return []
    now = _columns(profile)
    seen: dict[str, str] = {}
    always: set[str] | None = None
    old_stats: dict[str, Any] = {}
    for past in reversed(recent):  # oldest first, so the newest name and stats win
        cols = _columns(past)
        seen.update(cols)
        always = set(cols) if always is None else always & set(cols)
        old_stats.update({f: past["columns"][c] for f, c in cols.items()})
    new = sorted(set(now) - set(seen))
    missing = sorted((always or set()) - set(now))
    new_stats = {f: profile["columns"][now[f]] for f in new}
    alerts: list[Alert] = []
    for m, n, why in _renames(missing, new, old_stats, new_stats):
        missing.remove(m)
        new.remove(n)
        alerts.append(
            ref.alert(
                "schema_drift",
                now[n],
                seen[m],
                f"column {seen[m]!r} seems renamed to {now[n]!r} ({why})",
                change="renamed",
                column=now[n],
                renamed_from=seen[m],
            )
        )
    for n in new:
        alerts.append(
            ref.alert(
                "schema_drift",
                now[n],
                None,
                f"new column {now[n]!r} in the input, not in the last {len(recent)} batches",
                change="new",
                column=now[n],
            )
        )
    for m in missing:
        alerts.append(
            ref.alert(
                "schema_drift",
                seen[m],
                None,
                f"column {seen[m]!r} is missing from the input; "
                f"it was in each of the last {len(recent)} batches",
                change="missing",
                column=seen[m],
            )
        )
    return alerts
