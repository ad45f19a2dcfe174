"""Rich summaries of ingest runs. File names, reasons and headers come from data: they
are printed as plain text with their control characters made visible
(:mod:`tidegate._safe_text`), never as markup."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from tidegate._safe_text import assemble, plain
from tidegate._shadow_line import shadow_line
from tidegate.cli._common import console

EVENT_STYLE = {
    "batch_committed": "green",
    "batch_reprocessed": "green",
    "batch_held": "bold red",
    "file_rejected": "red",
    "batch_skipped": "dim",
    "batch_deferred": "yellow",
}


def print_source_summary(source: str, outcomes: list[dict[str, Any]]) -> None:
    table = Table(
        title=plain(source, "bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("file", no_wrap=True)
    table.add_column("result", no_wrap=True)
    for col in ("in", "loaded", "upd", "quar", "dup"):
        table.add_column(col, justify="right", no_wrap=True)
    totals: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    for o in outcomes:
        style = EVENT_STYLE.get(o["event"], "")
        result = o["event"].removeprefix("batch_").replace("file_rejected", "rejected")
        table.add_row(
            plain(Path(o["location"]).name),
            plain(result, style),
            str(o["rows_in"]),
            str(o["loaded"]),
            str(o["updated"]),
            str(o["quarantined"]),
            str(o["duplicates"]),
        )
        for k in ("rows_in", "loaded", "updated", "quarantined", "duplicates"):
            totals[k] += o[k]
        rules.update(o.get("failure_counts") or {})
    table.add_section()
    table.add_row(
        "[bold]total",
        "",
        *(
            f"[bold]{totals[k]}"
            for k in ("rows_in", "loaded", "updated", "quarantined", "duplicates")
        ),
    )
    console.print(table)
    for o in outcomes:
        where = Path(o["location"]).name
        if o["event"] in ("batch_held", "file_rejected") and o.get("reason"):
            console.print(assemble("  ", (where, "red"), f": {o['reason']}"), highlight=False)
        elif o.get("headers"):  # committed, but its header does not match the contract
            console.print(assemble("  ", (where, "yellow"), f": {o['headers']}"), highlight=False)
        if o["event"] == "batch_deferred":  # changed while read: the next run takes it
            line = assemble("  ", (where, "yellow"), f": {o['reason'] or ''}")
            console.print(line, highlight=False)
        for warning in o.get("warnings") or ():  # committed anyway (on_batch_failure: warn)
            console.print(
                assemble("  ", (where, "yellow"), f": warning: {warning}"), highlight=False
            )
        if o.get("shadow"):  # the pipeline's shadow: what its candidate would change
            console.print(
                assemble("  ", (where, "cyan"), f": {shadow_line(o['shadow'])}"), highlight=False
            )
        if o["event"] == "batch_skipped":
            line = assemble("  ", (f"{where}: {o['reason'] or ''}", "dim"))
            console.print(line, highlight=False)
    if rules:
        top = ", ".join(f"{rule} ({n})" for rule, n in rules.most_common(5))
        console.print(plain(f"  top failing rules: {top}"), highlight=False)
    console.print()


def print_next_steps(store: str, tables: list[str], where: str, run_where: str = "") -> None:
    """Where to look next: the run's target tables and `tidegate` commands that query
    them (``where`` is the ``--store``/``--project`` argument that finds the run's
    store, ``run_where`` those another run needs; "" for the defaults)."""
    from tidegate.store._read_query import first_rows_sql

    suffix = f" {where}" if where else ""
    run_suffix = f" {run_where}" if run_where else ""
    console.print("[bold]Where to look next[/]")
    console.print(plain(f"  store            {store}"), highlight=False)
    console.print(plain(f"  verify the audit `tidegate audit verify{suffix}`"), highlight=False)
    for table in tables:
        query = f'"{first_rows_sql(table)}"'
        console.print(
            plain(f"  loaded rows      `tidegate audit sql {query}{suffix}`"),
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        plain(
            f"  quarantine       `tidegate quarantine list{suffix}` (pending records, with rules)"
        ),
        highlight=False,
    )
    console.print(
        plain(
            f"  run again        `tidegate run --all{run_suffix}` (already-committed files "
            "are skipped)"
        ),
        highlight=False,
    )
