"""The options every list command takes, defined once: `audit list` and `quarantine list`
(and the filters of the quarantine actions) read ``-n/--limit``, ``--since``/``--until``,
``--format``, ``--source`` and ``--batch`` the same way, with the same parser."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tidegate.store import Store

LimitOpt = Annotated[
    int,
    typer.Option("--limit", "--last", "-n", min=1, max=10000, help="At most this many per page."),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="At or after: an age back from now (90m, 12h, 7d, 2w) or a UTC date/time "
        "(2026-11-24, 2026-11-24T13:00Z).",
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Before: an age or a UTC date/time, as --since.")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json (lines) or csv.")]
SourceOpt = Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")]
BatchOpt = Annotated[
    str | None,
    typer.Option(
        "--batch", help="Only this batch: its id, or its first characters if they name one."
    ),
]


def time_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since``/``--until`` as naive UTC datetimes; refuses a bad time or an empty range."""
    from tidegate.audit._filters import parse_moment
    from tidegate.errors import AuditQueryError

    lower = parse_moment(since, option="--since") if since else None
    upper = parse_moment(until, option="--until") if until else None
    if lower and upper and lower >= upper:
        raise AuditQueryError(
            f"--since {since!r} is not before --until {until!r}: nothing can match; "
            "swap them or widen the range"
        )
    return lower, upper


def batch_id(store: Store, batch: str | None) -> str | None:
    """``--batch`` as the one batch id it names (an id or a unique prefix), or None."""
    from tidegate.store._batch_ids import resolve_batch_id

    if not batch:
        return None
    return resolve_batch_id(store, batch)
