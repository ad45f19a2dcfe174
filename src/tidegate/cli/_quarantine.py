"""`tidegate quarantine ...`: review quarantined records from the command line.

``list`` and ``show`` only read (no Prefect, no pandera); ``recheck`` only reads too
(no Prefect), judging pending records under a candidate contract. ``edit``, ``replay``,
``reject`` and ``import`` are audit events carrying the actor (``--actor`` or
``TIDEGATE_ACTOR``) and check each record's version, so two reviewers never
overwrite each other silently.
"""

from __future__ import annotations

import typer

from tidegate.cli import _quarantine_reads, _quarantine_recheck, _quarantine_writes

app = typer.Typer(
    help="Review quarantined records: list, show, edit, replay, reject.", no_args_is_help=True
)

app.command("list")(_quarantine_reads.list_records)
app.command("show")(_quarantine_reads.show)
app.command("edit")(_quarantine_writes.edit)
app.command("replay")(_quarantine_writes.replay)
app.command("recheck")(_quarantine_recheck.recheck)
app.command("reject")(_quarantine_writes.reject)
app.command("export")(_quarantine_writes.export)
app.command("import")(_quarantine_writes.import_edits)
