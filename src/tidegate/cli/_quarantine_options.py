"""The options and the record filter that the `tidegate quarantine ...` commands share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

SourceOpt = Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")]
RuleOpt = Annotated[
    str | None, typer.Option("--rule", "-r", help="Only records failing this rule id.")
]
ColumnOpt = Annotated[
    str | None, typer.Option("--column", "-c", help="Only records with an error on this column.")
]
BatchOpt = Annotated[str | None, typer.Option("--batch", help="Only this batch id.")]
SinceOpt = Annotated[
    datetime | None, typer.Option(help="Quarantined at or after (UTC), e.g. 2024-05-01.")
]
UntilOpt = Annotated[datetime | None, typer.Option(help="Quarantined before (UTC).")]
IdsArg = Annotated[
    list[int] | None, typer.Argument(help="Record ids (see `tidegate quarantine list`).")
]


def _filter(**kw: Any) -> Any:
    from tidegate.store._quarantine import QuarantineFilter

    return QuarantineFilter(**kw)
