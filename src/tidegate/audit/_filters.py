"""Filters over the audit table, as a person types them (the store reads by them).

``at`` is stored as an ISO-8601 UTC string (``2026-11-24T12:00:00.123456Z``), so
since/until bounds are written the same way and compare as strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tidegate.errors import AuditQueryError
from tidegate.store import AuditMatch

AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(text: str, *, option: str = "--since", now: datetime | None = None) -> datetime:
    """A time bound as a person types it, as a naive UTC datetime: an ISO date or time
    (UTC unless it says) or an age back from now (``90m``, ``12h``, ``7d``, ``2w``).

    Every list command reads ``--since``/``--until`` with it (``audit list``,
    ``quarantine list``).

    >>> parse_moment("2026-11-24T13:30:00+01:00")
    datetime.datetime(2026, 11, 24, 12, 30)
    """
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AuditQueryError(
            f"{option} {text!r} is not a time: use an ISO date or time in UTC such as "
            "2026-11-24 or 2026-11-24T13:30:00Z, or an age such as 90m, 12h, 7d, 2w"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_when(text: str, *, option: str = "--since", now: datetime | None = None) -> str:
    """A time bound as stored in ``"at"`` (see :func:`parse_moment`).

    >>> parse_when("2026-11-24")
    '2026-11-24T00:00:00.000000Z'
    """
    return parse_moment(text, option=option, now=now).strftime(AT_FORMAT)


@dataclass(frozen=True)
class AuditFilter(AuditMatch):
    """Which audit entries to read; every field left empty matches everything.

    The store turns it into its query (:class:`tidegate.store.AuditMatch`); here it is
    built from what a person typed.
    """

    @classmethod
    def from_options(
        cls,
        *,
        source: str | None = None,
        events: list[str] | tuple[str, ...] | None = None,
        actor: str | None = None,
        batch: str | None = None,
        since: str | None = None,
        until: str | None = None,
        after_seq: int | None = None,
    ) -> AuditFilter:
        """Build a filter from command-line text, refusing bad times and empty ranges."""
        lower = parse_when(since, option="--since") if since else None
        upper = parse_when(until, option="--until") if until else None
        if lower and upper and lower >= upper:
            raise AuditQueryError(
                f"--since {since!r} is not before --until {until!r}: nothing can match; "
                "swap them or widen the range"
            )
        flat = tuple(e.strip() for item in events or () for e in item.split(",") if e.strip())
        return cls(source, flat, actor, batch, lower, upper, after_seq)
