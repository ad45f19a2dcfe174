"""`tidegate schema shadow-report`: what a source's candidate contract (``shadow:``)
would have changed over its recent batches, and whether its ``promote_if:`` gates pass.

Read-only: reads the pipeline file and the audit; imports neither Prefect, GX nor polars.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import assemble, json_dumps, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.audit._shadow import ShadowSummary
    from tidegate.audit._shadow_gates import GateResult
    from tidegate.pipelines._spec import PipelineSpec
    from tidegate.store import Store

SourceArg = Annotated[str, typer.Argument(help="The source (its pipeline's name).")]
LastOpt = Annotated[
    int, typer.Option("--last", min=1, help="How many of the candidate's newest batches.")
]


@dataclass(frozen=True)
class ShadowPicture:
    pipeline: PipelineSpec
    store: Store
    summary: ShadowSummary
    gates: list[GateResult] | None  # None: the pipeline has no promote_if

    @property
    def gates_pass(self) -> bool:
        """Every gate passes on shadow data (no data passes nothing)."""
        return bool(self.summary.batches) and all(g.passed for g in self.gates or [])

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.summary.source,
            "summary": self.summary.as_dict(),
            "gates": None if self.gates is None else [g.as_dict() for g in self.gates],
            "gates_pass": None if self.gates is None else self.gates_pass,
        }


def shadow_picture(project: Path, store: str | None, source: str, last: int) -> ShadowPicture:
    """The pipeline of ``source``, its shadow summary and its gates, read-only."""
    from tidegate.audit._shadow import shadow_summary
    from tidegate.audit._shadow_gates import evaluate_gates
    from tidegate.pipelines._contract_file import declared_source, pipeline_of_source

    try:
        pipeline = pipeline_of_source(project.resolve(), source)
        target = resolve_store(project, store)
        # batch entries name the contract's source (the pipeline's name when they agree)
        audited = declared_source(pipeline.contract_path) or pipeline.name
        summary = shadow_summary(target, audited, last)
    except TidegateError as exc:
        raise fail(exc) from None
    gates = None if pipeline.promote_if is None else evaluate_gates(pipeline.promote_if, summary)
    return ShadowPicture(pipeline, target, summary, gates)


def no_data_line(pipeline: PipelineSpec) -> str:
    """What to do when no batch carries a shadow result yet."""
    from tidegate.pipelines._promote_if import shadow_name_of, shadow_path_of

    where = rel_path(pipeline.path, pipeline.project_dir)
    if shadow_path_of(pipeline) is None:
        return (
            f"no batch of {pipeline.name} has been shadowed yet; add `shadow: FILE` "
            f"to {where} and run `tidegate run {pipeline.name}`"
        )
    return (
        f"no batch of {pipeline.name} has been shadowed yet; {where} names "
        f"shadow: {shadow_name_of(pipeline)}: run `tidegate run {pipeline.name}`"
    )


def rel_path(path: Path, project: Path) -> str:
    try:
        return str(path.relative_to(project))
    except ValueError:
        return str(path)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else ""


def print_picture(picture: ShadowPicture) -> None:
    """The summary, the rules, the samples and the gates as rich tables (plain text)."""
    from rich.table import Table

    s = picture.summary
    version = f" v{s.version}" if s.version is not None else ""
    console.print(
        plain(
            f"shadow of {s.source}: candidate {s.contract}{version} (hash {s.content_hash[:12]}), "
            f"{s.batches} batch{'es' if s.batches != 1 else ''} "
            f"(newest {s.last} asked), {s.first_at} to {s.last_at}"
        ),
        highlight=False,
    )
    if s.ignored_batches:
        console.print(
            plain(
                f"{s.ignored_batches} batch{'es' if s.ignored_batches != 1 else ''} shadowed "
                "under an older candidate text ignored"
            ),
            highlight=False,
        )
    figures = Table("figure", "rows", "of rows judged", title="under the candidate")
    for label, n in (
        ("rows judged", s.rows),
        ("would pass", s.passed),
        ("would be quarantined", s.quarantined),
        ("newly passed", s.newly_passed),
        ("newly failed", s.newly_failed),
    ):
        figures.add_row(plain(label), plain(str(n)), plain(_pct(n, s.rows)))
    figures.add_row(plain("batches it would hold"), plain(str(s.held_batches)), plain(""))
    console.print(figures)
    rules = s.rule_rows()
    if rules:
        by_rule = Table("rule", "newly failed", "newly passed", title="by rule")
        for rule, failed, passed in rules:
            by_rule.add_row(plain(rule), plain(str(failed)), plain(str(passed)))
        console.print(by_rule)
    for kind, samples in s.samples.items():
        if samples:
            shown = ", ".join(f"record {x.record} of {x.batch_id}" for x in samples)
            console.print(plain(f"{kind.replace('_', ' ')}: {shown}"), highlight=False)
    print_gates(picture.gates)


def print_gates(gates: list[GateResult] | None) -> None:
    if gates is None:
        console.print(plain("no promote_if gates in the pipeline file"), highlight=False)
        return
    for g in gates:
        mark = ("✓", "green") if g.passed else ("✗", "red")
        console.print(assemble(mark, f" gate {g.describe()}"), highlight=False)


def shadow_report(
    source: SourceArg,
    last: LastOpt = 20,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Show what the candidate contract (shadow:) would have changed, and its gates.

    Over the source's newest batches under the candidate: rows that would newly pass or
    fail, by rule, sample record ids, and whether the pipeline's promote_if gates pass.
    Read-only."""
    if output not in ("table", "json"):
        raise fail(f"--format {output!r} is not valid; use table or json")
    picture = shadow_picture(project, store, source, last)
    if output == "json":
        typer.echo(json_dumps(picture.as_dict(), default=str))
        return
    if not picture.summary.batches:
        console.print(plain(no_data_line(picture.pipeline)), highlight=False)
        if picture.gates is not None:
            console.print(plain("the promote_if gates wait for shadow data"), highlight=False)
        return
    print_picture(picture)
