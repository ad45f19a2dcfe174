"""Publish a source's report figures as Prefect artifacts (markdown and table).

Called at the end of the ``ingest`` flow, after every batch is committed, so the
Prefect UI shows the same figures as ``tidegate report``: per-source totals, the
quarantine ratio trend, the top failing rules and one row per recent batch.
Publishing is best effort: the batches are already committed, so a failure here
is logged as a warning and never fails the flow run.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.audit._figures import BatchRun, Figures, compute_figures

if TYPE_CHECKING:
    from tidegate.store import Store

SPARKS = "▁▂▃▄▅▆▇█"
RECENT = 30


def report_artifact_key(source: str, suffix: str = "") -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9-]+", "-", source.lower()).strip("-") or "source"
    return f"tidegate-report-{slug}" + (f"-{suffix}" if suffix else "")


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in values
    )


def report_markdown(figures: Figures, source: str) -> str:
    """The markdown artifact: totals, trends of the recent batches, top failing rules."""
    lines = [f"# tidegate report: `{source}`", ""]
    summary = next((s for s in figures.summaries if s.source == source), None)
    if summary is None:
        return "\n".join([*lines, "No batch of this source in the audit trail yet."])
    duration = f"{summary.mean_duration_ms:.0f} ms" if summary.mean_duration_ms else "n/a"
    lines += [
        "| batches | held | skipped | files rejected | rows in | loaded | updated "
        "| quarantined | duplicates | quarantine ratio | mean duration |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {summary.batches} | {summary.held} | {summary.skipped} | {summary.files_rejected} "
        f"| {summary.rows_in} | {summary.loaded} | {summary.updated} | {summary.quarantined} "
        f"| {summary.duplicates} | {summary.quarantine_ratio:.1%} | {duration} |",
        "",
    ]
    recent = figures.runs[-RECENT:]
    if recent:
        ratios = [r.quarantine_ratio for r in recent]
        lines += [
            f"**Last {len(recent)} batches**, oldest first:",
            "",
            f"- quarantine ratio `{sparkline(ratios)}` "
            f"(latest {ratios[-1]:.1%}, max {max(ratios):.1%})",
            f"- rows in `{sparkline([float(r.rows_in) for r in recent])}` "
            f"(latest {recent[-1].rows_in}, max {max(r.rows_in for r in recent)})",
            f"- duration `{sparkline([float(r.duration_ms or 0) for r in recent])}` "
            f"(latest {recent[-1].duration_ms} ms)",
            "",
        ]
    if figures.top_rules:
        lines += ["**Top failing rules**", "", "| rule | rows |", "|---|---:|"]
        lines += [f"| `{r.rule}` | {r.rows} |" for r in figures.top_rules]
        lines.append("")
    lines.append(
        f"Charts: `tidegate report --source {source} -o report.html` "
        "(one self-contained HTML file)."
    )
    return "\n".join(lines)


def _row(r: BatchRun) -> dict[str, Any]:
    return {
        "at": r.at.strftime("%Y-%m-%d %H:%M:%S"),
        "file": Path(r.location).name,
        "event": r.event,
        "rows_in": r.rows_in,
        "loaded": r.loaded,
        "updated": r.updated,
        "quarantined": r.quarantined,
        "duplicates": r.duplicates,
        "quarantine_ratio": round(r.quarantine_ratio, 4),
        "duration_ms": r.duration_ms,
        "batch_id": r.batch_id,
    }


def report_table(figures: Figures, last: int = RECENT) -> list[dict[str, Any]]:
    """The table artifact: one row per recent batch, newest last."""
    return [_row(r) for r in figures.runs[-last:]]


def source_figures(store: Store, source: str) -> Figures:
    """The figures of ``source``, without reading each of its skips (only their count)."""
    from tidegate.store import connect
    from tidegate.store._audit_log import read_source_runs

    with connect(store, read_only=True) as con:
        entries, skipped = read_source_runs(con, source)
    figures = compute_figures(entries, source=source)
    summaries = [
        replace(s, skipped=skipped) if s.source == source else s for s in figures.summaries
    ]
    return replace(figures, summaries=summaries)


def publish_report_artifacts(store: Store, source: str) -> None:
    """Create the markdown and table artifacts of ``source``; warn instead of failing."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    try:
        figures = source_figures(store, source)
        create_markdown_artifact(
            markdown=report_markdown(figures, source),
            key=report_artifact_key(source),
            description=f"tidegate report figures for `{source}`",
        )
        create_table_artifact(
            table=report_table(figures),
            key=report_artifact_key(source, "batches"),
            description=f"tidegate: the last {RECENT} batches of `{source}`",
        )
    except Exception as exc:  # reporting must never fail a run whose batches are committed
        _logger().warning("tidegate report artifacts for %s not published: %s", source, exc)


def publish_data_docs(store: Store, source: str, folder: Path) -> Path | None:
    """Rebuild the source's GX Data Docs in ``folder`` and link them from a Prefect link
    artifact; warn instead of failing (the batches are committed). The index, or None."""
    from prefect.artifacts import create_link_artifact

    from tidegate.audit._data_docs import build_source_docs

    try:
        index = build_source_docs(store, source, folder)
        if index is not None:
            create_link_artifact(
                link=index.resolve().as_uri(),
                link_text=f"GX Data Docs of {source}",
                key=report_artifact_key(source, "data-docs"),
                description=f"tidegate: Great Expectations Data Docs of `{source}`'s batches",
            )
        return index
    except Exception as exc:  # docs must never fail a run whose batches are committed
        _logger().warning("tidegate Data Docs for %s not built: %s", source, exc)
        return None


def _logger() -> Any:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_logger, get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("tidegate")
