"""`tidegate pipelines list`, `tidegate serve` and `tidegate deploy`.

``pipelines list`` reads the pipeline files and the store only: it never imports
Prefect. ``serve`` and ``deploy`` load Prefect and ``tidegate.flows._deploy``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from tidegate._safe_text import assemble, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.cli._prefect import prefect_session
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.pipelines import PipelineSpec
    from tidegate.store import Store

app = typer.Typer(
    help="Pipelines in pipelines/*.yaml: their schedules, next runs and last results.",
    no_args_is_help=True,
)

BATCH_EVENTS = ("batch_committed", "batch_held", "batch_skipped", "file_rejected")


@dataclass(frozen=True)
class LastResult:
    event: str
    at: str
    location: str | None

    def describe(self) -> str:
        where = f" {Path(self.location).name}" if self.location else ""
        return f"{self.event.removeprefix('batch_')}{where} at {self.at}"


def audit_sources(pipeline: PipelineSpec) -> list[str]:
    """Names the pipeline's batches carry in the audit: its own name (skips, file
    rejects) and its contract's ``source:`` (commits)."""
    import yaml

    names = [pipeline.name]
    try:
        data = yaml.safe_load(pipeline.contract_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return names
    source = data.get("source") if isinstance(data, dict) else None
    if isinstance(source, str) and source not in names:
        names.append(source)
    return names


def last_results(store: Store, sources: dict[str, list[str]]) -> dict[str, LastResult]:
    """The last batch event of each pipeline in the store's audit table (none: no store).

    ``sources`` maps a pipeline name to the source names its audit entries carry."""
    from tidegate.store import connect
    from tidegate.store._audit_reads import has_audit, last_batch_event

    if not store.exists() or not sources:
        return {}
    out: dict[str, LastResult] = {}
    with connect(store, read_only=True) as con:
        if not has_audit(con):
            return {}
        for pipeline, names in sources.items():
            last = last_batch_event(con, names, BATCH_EVENTS)
            if last is not None:
                event, at, detail = last
                out[pipeline] = LastResult(event, at, _location(detail))
    return out


def _location(detail: object) -> str | None:
    try:
        data = json.loads(str(detail))
    except ValueError:
        return None
    value = data.get("location") if isinstance(data, dict) else None
    return str(value) if value else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


@app.command("list")
def list_(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (default) or json.")] = "table",
) -> None:
    """Each pipeline with its schedule, concurrency, next run and last result."""
    from tidegate.pipelines import load_pipelines

    if fmt not in ("table", "json"):
        raise fail(f"--format: {fmt!r} is not valid; expected table or json")
    project = project.resolve()
    try:
        pipelines = load_pipelines(project)
        store_path = resolve_store(project, store)
        results = last_results(store_path, {p.name: audit_sources(p) for p in pipelines})
        # asked here, where an error is reported: a PostgreSQL store is a round trip
        no_store = not results and not store_path.exists()
    except TidegateError as exc:
        raise fail(exc) from exc
    rows: list[dict[str, Any]] = []
    for p in pipelines:
        spec = p.schedule_spec
        last = results.get(p.name)
        rows.append(
            {
                "name": p.name,
                "schedule": spec.describe() if spec else None,
                "next_run": _iso(spec.next_run()) if spec else None,
                "concurrency": p.concurrency.describe(),
                "retries": p.retries,
                "last_result": last.event if last else None,
                "last_at": last.at if last else None,
                "last_location": last.location if last else None,
            }
        )
    if fmt == "json":
        print(json.dumps({"store": str(store_path), "pipelines": rows}, indent=2))
        return
    table = Table(title=plain(f"pipelines in {project / 'pipelines'}"), title_justify="left")
    for column in ("pipeline", "schedule", "next run", "concurrency", "last result"):
        table.add_column(column)
    for p, row in zip(pipelines, rows, strict=True):
        last = results.get(p.name)
        table.add_row(
            plain(row["name"]),
            plain(
                row["schedule"] or "none (run by hand or add schedule:)",
                "" if row["schedule"] else "dim",
            ),
            plain(row["next_run"] or "-"),
            plain(row["concurrency"]),
            plain(last.describe()) if last else plain("never run", "dim"),
        )
    console.print(table)
    if no_store:
        console.print(
            plain(f"no store at {store_path} yet: last results appear after a run", "dim")
        )
    if not any(p.schedule_spec for p in pipelines):
        console.print(
            '[dim]no pipeline has a schedule: add `schedule: {cron: "0 * * * *"}` '
            "or `schedule: {interval: 1h}` to a pipeline file, then `tidegate serve`[/]"
        )


def serve(
    source: Annotated[
        list[str] | None,
        typer.Argument(help="Pipelines to serve. Default: every pipeline in pipelines/."),
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", help="Most flow runs at once across all pipelines."),
    ] = None,
) -> None:
    """Serve every pipeline as a Prefect deployment from this process, on its schedule.

    Runs until Ctrl-C. Needs a Prefect server that keeps running (`tidegate server
    start`, or your own with PREFECT_API_URL): the server creates the scheduled runs, this
    process executes them. Pipelines without `schedule:` are served too and run when
    triggered (`prefect deployment run 'ingest/NAME'`). A second run of a source
    waits or is cancelled as its `concurrency: {on_busy: ...}` says.
    """
    project = project.resolve()
    try:
        with prefect_session(long_lived="serve"):
            from tidegate.flows._deploy import plan_deployments
            from tidegate.flows._deploy import serve as serve_plans

            plans = plan_deployments(project, resolve_store(project, store), source or None)
            for plan in plans:
                spec = plan.pipeline.schedule_spec
                when = spec.describe() if spec else "no schedule (runs when triggered)"
                line = assemble("serving ", (f"ingest/{plan.name}", "cyan"), f": {when}")
                console.print(line, highlight=False)
            serve_plans(plans, limit=limit)
    except TidegateError as exc:
        raise fail(exc) from exc


def deploy(
    source: Annotated[
        list[str] | None,
        typer.Argument(help="Pipelines to deploy. Default: every pipeline in pipelines/."),
    ] = None,
    pool: Annotated[
        str | None,
        typer.Option("--pool", help="Prefect work pool whose workers run the flows."),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option("--image", help="Docker image with tidegate installed (docker pools)."),
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Register every pipeline as a Prefect deployment, for the workers of a work pool.

    Needs --pool. With a process pool the workers import tidegate
    (`tidegate.flows._ingest.ingest`) from their own environment, so they must have it
    installed and see the project folder and the store at the same paths. Schedules,
    parameters and concurrency limits are registered; `retries:` is honoured by
    `tidegate serve` only. To run schedules on this machine without workers, use
    `tidegate serve`.
    """
    if not pool:
        raise fail(
            "tidegate deploy needs a work pool (--pool NAME): create one with "
            "`prefect work-pool create NAME --type process`, start a worker with "
            "`prefect worker start --pool NAME`, then `tidegate deploy --pool NAME`. "
            "To run the schedules from this machine without workers: `tidegate serve`"
        )
    project = project.resolve()
    try:
        with prefect_session(long_lived="deploy"):
            from tidegate.flows._deploy import deploy as deploy_plans
            from tidegate.flows._deploy import plan_deployments

            plans = plan_deployments(project, resolve_store(project, store), source or None)
            deploy_plans(plans, pool, image)
    except TidegateError as exc:
        raise fail(exc) from exc
    for plan in plans:
        spec = plan.pipeline.schedule_spec
        when = spec.describe() if spec else "no schedule"
        console.print(
            assemble("deployed ", (f"ingest/{plan.name}", "cyan"), f" to pool {pool}: {when}")
        )
    console.print(
        plain(f"next: `prefect worker start --pool {pool}` where the project and store live")
    )
