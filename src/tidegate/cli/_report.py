"""`tidegate report` and `tidegate doctor`: read-only views of a project (no Prefect import)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import Part, assemble, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.doctor import DoctorReport
    from tidegate.pipelines._promote_if import Gates
    from tidegate.pipelines._spec import PipelineSpec

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def _when(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    from tidegate.audit._figures import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from exc


def _pipelines(project: Path) -> list[PipelineSpec]:
    """The project's pipelines; none when they do not load (the report is of the store)."""
    from tidegate.pipelines._spec import load_pipelines

    try:
        return load_pipelines(project)
    except TidegateError:
        return []


def promote_if_of(project: Path) -> dict[str, Gates]:
    """Pipeline -> its ``promote_if:`` gates, for those that have some."""
    return {p.name: p.promote_if for p in _pipelines(project) if p.promote_if is not None}


def data_docs_of(project: Path, source: str | None) -> dict[str, Path]:
    """Pipeline -> the index of the Data Docs its runs built (``data_docs:``), for those
    built."""
    pipelines = _pipelines(project)
    return {
        p.name: p.data_docs / "index.html"
        for p in pipelines
        if p.data_docs is not None
        and (p.data_docs / "index.html").is_file()
        and source in (None, p.name)
    }


def report(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="HTML file to write.", dir_okay=False),
    ] = Path("report.html"),
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this source (default: all).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Entries at or after this ISO time (UTC unless it says), e.g. 2024-05-01."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Entries before this ISO time (UTC unless it says).")
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Write one self-contained HTML report (charts, per-source table, chain status).

    Rows per batch (its quarantine entries split by their state now), the quarantine
    now per source (pending, replayed, rejected, read from the quarantine table beside
    the batch history), quarantine ratio per source over time, top failing rules and
    batch duration, drawn as inline SVG, one colour per meaning: the file opens
    offline and fetches nothing. Exit 1 (after writing) if the audit chain is broken.
    """
    from tidegate.audit._report import write_report

    start, end = _when("--since", since), _when("--until", until)
    if start and end and start >= end:
        raise fail(f"--since {since} is not before --until {until}")
    path = resolve_store(project, store)
    try:
        docs = data_docs_of(project, source)
        result = write_report(
            path,
            output,
            source=source,
            since=start,
            until=end,
            data_docs=docs,
            promote_if=promote_if_of(project),
        )
    except TidegateError as exc:
        raise fail(exc) from exc
    f, chain = result.figures, result.chain
    if source and source not in f.sources:
        line = plain(f"no entry for source {source!r} in this window", "yellow")
        console.print(line, highlight=False)
    chain_text = (
        assemble(("chain intact", "green"), f" ({chain.entries} entries)")
        if chain.ok
        else plain(f"chain broken at seq {chain.first_bad_seq}", "bold red")
    )
    console.print(
        assemble(
            "wrote ",
            (str(output), "cyan"),
            f": {len(f.runs)} batches, {len(f.sources)} sources, ",
            chain_text,
        ),
        highlight=False,
    )
    for name, state in f.quarantine_now.items():
        console.print(plain(f"  quarantine now, {name}: {state.describe()}"), highlight=False)
    for section in result.shadow:
        console.print(plain(f"  shadow, {section.line()}"), highlight=False)
    for name, index in docs.items():
        console.print(plain(f"  Data Docs, {name}: {index}"), highlight=False)
    if not chain.ok:  # the file is written, but a broken chain must not pass unnoticed
        raise typer.Exit(1)


def doctor(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Grade the project against a production-readiness checklist; exit 1 if any item fails.

    Checks: every pipeline has a contract that checks out, the store is reachable
    and its audit chain intact, the audit log cannot be rewritten by the role that
    runs tidegate (PostgreSQL triggers and grants), thresholds (`monitor:`) are set for
    every source,
    the last run of each source succeeded, the promote_if gates of a shadowed candidate
    contract pass, schedules are deployed, PII columns are marked. Each item that does
    not pass says what to do.
    """
    from tidegate.doctor import run_doctor

    if output_format not in ("table", "json"):
        raise fail(f"--format {output_format!r} is not valid; expected table or json")
    result = run_doctor(project, resolve_store(project.resolve(), store))
    if output_format == "json":
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_doctor(result)
    raise typer.Exit(0 if result.ok else 1)


def _print_doctor(result: DoctorReport) -> None:
    """Four columns on a wide terminal; on a narrow one, what to do goes under the detail."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    wide = console.width >= 120
    table = Table(box=box.SIMPLE_HEAD, expand=True)
    table.add_column("item", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail" if wide else "detail / [dim]what to do[/]", ratio=4 if wide else 6)
    if wide:
        table.add_column("what to do", ratio=4)
    for r in result.results:
        status = plain(r.status, STATUS_STYLE[r.status])
        if wide:
            table.add_row(plain(r.item), status, plain(r.detail), plain(r.todo))
        else:
            under: list[Part] = [Text("\n"), (f"→ {r.todo}", "dim")] if r.todo else []
            table.add_row(plain(r.item), status, assemble(r.detail, *under))
    console.print(table)
    style = "green" if result.ok else "bold red"
    console.print(f"[{style}]{result.grade}[/]", highlight=False)
