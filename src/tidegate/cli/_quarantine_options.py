"""The options and the record filter that the `tidegate quarantine ...` commands share.

The options every list command takes (``-n/--limit``, ``--since``, ``--source``,
``--batch``, ...) are in :mod:`tidegate.cli._list_options`; these are the quarantine's own.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tidegate.cli._list_options import BatchOpt, SinceOpt, SourceOpt, UntilOpt

RuleOpt = Annotated[
    str | None, typer.Option("--rule", "-r", help="Only records failing this rule id.")
]
ColumnOpt = Annotated[
    str | None, typer.Option("--column", "-c", help="Only records with an error on this column.")
]
ALL_STATUSES = ("all", "any")  # `all` on the command line; `any` is the web queue's word
StatusOpt = Annotated[
    str,
    typer.Option(
        "--status",
        help="pending (the default, as on the review web page), replayed, rejected, "
        "or all for every status.",
    ),
]
IdsArg = Annotated[
    list[int] | None, typer.Argument(help="Record ids (see `tidegate quarantine list`).")
]

__all__ = [
    "BatchOpt",
    "ColumnOpt",
    "IdsArg",
    "RuleOpt",
    "SinceOpt",
    "SourceOpt",
    "StatusOpt",
    "UntilOpt",
    "status_filter",
]


def status_filter(status: str) -> str | None:
    """``--status`` as the filter's status: None for every status."""
    from tidegate.errors import ReviewError
    from tidegate.store._quarantine import STATUSES

    if status in ALL_STATUSES:
        return None
    if status not in STATUSES:
        raise ReviewError(f"--status {status!r} is not valid; use {', '.join(STATUSES)} or all")
    return status


def _filter(**kw: Any) -> Any:
    from tidegate.store._quarantine import QuarantineFilter

    return QuarantineFilter(**kw)
