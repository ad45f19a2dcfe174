"""`tidegate run` and `tidegate demo`: run pipelines through the Prefect flow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tidegate._safe_text import assemble, visible
from tidegate.cli._common import (
    ActorOpt,
    ProjectOpt,
    StoreOpt,
    console,
    fail,
    resolve_store,
)
from tidegate.cli._prefect import prefect_session
from tidegate.cli._summary import print_next_steps, print_source_summary
from tidegate.errors import TidegateError

# `tidegate run` exits 2 when configuration or machinery failed, 3 when data was held
# back: tidegate.engine's EXIT_FAILED and EXIT_DATA_HELD (imported there lazily, since
# importing the engine imports polars and pandera, which read-only commands never need).
EXIT_FAILED, EXIT_DATA_HELD = 2, 3

if TYPE_CHECKING:
    from tidegate.engine._outcome import RunVerdict
    from tidegate.store import Store


def _run_pipelines(
    names: list[str], project: Path, store: Store, reprocess: bool, actor: str | None
) -> dict[str, list[dict[str, Any]]]:
    from tidegate.pipelines import find_pipeline, preflight
    from tidegate.store._location import check_writable

    for name in names:  # bad configuration fails here, before Prefect starts
        preflight(find_pipeline(project, name))
    check_writable(store)
    with prefect_session():
        return _ingest_each(names, project, store, reprocess, actor)


def _ingest_each(
    names: list[str], project: Path, store: Store, reprocess: bool, actor: str | None
) -> dict[str, list[dict[str, Any]]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from tidegate.flows import ingest_flow, subscribe

    ingest = ingest_flow()
    results: dict[str, list[dict[str, Any]]] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),  # names from data: plain text
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        overall = progress.add_task("sources", total=len(names))

        def on_event(event: str, data: dict[str, Any]) -> None:
            if event == "batch_started":
                name = Path(data["location"]).name
                progress.update(overall, description=visible(f"{data['source']}: {name}"))
            elif event == "chunk_done":  # a large file, chunk by chunk
                name = Path(data["location"]).name
                progress.update(
                    overall,
                    description=visible(f"{data['source']}: {name} ({data['rows']:,} rows read)"),
                )

        unsubscribe = subscribe(on_event)
        try:
            for name in names:
                progress.update(overall, description=visible(f"{name}: starting"))
                results[name] = ingest(
                    pipeline=name,
                    project_dir=str(project),
                    store=store.argument(),
                    reprocess=reprocess,
                    actor=actor,
                )
                progress.advance(overall)
        finally:
            unsubscribe()
    return results


def _target_tables(project: Path, names: list[str]) -> list[str]:
    """The target table of each pipeline run, in run order, each once."""
    from tidegate.contracts import load_contract
    from tidegate.pipelines import find_pipeline

    tables = [load_contract(find_pipeline(project, n).contract_path).target_table for n in names]
    return list(dict.fromkeys(tables))


def _where(project: Path, store: str | None) -> tuple[str, str]:
    """The arguments a follow-up command needs to find what this run used: the store
    (``--store``, or ``--project`` when the store is the project's default) for a
    query, and ``--project`` and ``--store`` both for another run; "" for the defaults."""
    import shlex

    elsewhere = project != Path.cwd().resolve()
    project_arg = f"--project {shlex.quote(str(project))}" if elsewhere else ""
    store_arg = f"--store {shlex.quote(store)}" if store else ""
    run = " ".join(a for a in (project_arg, store_arg) if a)
    return (store_arg or project_arg), run


def _report(
    results: dict[str, list[dict[str, Any]]], project: Path, store: str | None, store_path: Store
) -> RunVerdict:
    from tidegate.engine._outcome import verdict

    for name, outcomes in results.items():
        print_source_summary(name, outcomes)
    print_next_steps(
        str(store_path), _target_tables(project, list(results)), *_where(project, store)
    )
    run = verdict(o for outcomes in results.values() for o in outcomes)
    if run.data_held:
        console.print(assemble(("data held back:", "bold red"), f" {run.message}"), highlight=False)
    return run


def run(
    source: Annotated[
        str | None, typer.Argument(help="Pipeline to run (its name in pipelines/).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every pipeline in pipelines/.")] = False,
    reprocess: Annotated[
        bool,
        typer.Option(
            "--reprocess", help="Replace batches already committed, under the current contract."
        ),
    ] = False,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Ingest a source (or --all): read, normalize, validate, load or quarantine, audit.

    Without PREFECT_API_URL the flows run on tidegate's own Prefect server, started
    once in the background and reused (`tidegate server --help`).

    Exit codes: 0 every batch loaded (or skipped as already committed); 3 data held
    back (a batch held, a file rejected, or quarantine above the monitor's
    threshold); 2 configuration or machinery failed (nothing of the failing batch
    was written).
    """
    from tidegate.pipelines import load_pipelines

    if bool(source) == all_:
        raise fail("name one pipeline (`tidegate run orders`) or pass --all, not both or neither")
    project = project.resolve()
    try:
        pipelines = load_pipelines(project)
        known = [p.name for p in pipelines]
        if source and source not in known:
            from tidegate.pipelines import find_pipeline

            find_pipeline(project, source)  # raises with a "did you mean"
        names = known if all_ else [source or ""]
        store_path = resolve_store(project, store)
        results = _run_pipelines(names, project, store_path, reprocess, actor)
    except TidegateError as exc:
        raise fail(exc, EXIT_FAILED) from exc
    run_verdict = _report(results, project, store, store_path)
    if run_verdict.data_held:
        raise typer.Exit(EXIT_DATA_HELD)


def demo(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Run every sample source end to end and show what was loaded, quarantined and why."""
    from tidegate.pipelines import load_pipelines

    if not (project / "sample_data").is_dir():
        raise fail(
            f"no sample_data/ in {project.resolve()}: run `tidegate demo` from a clone of the "
            "tidegate repository (or pass --project PATH_TO_CLONE)"
        )
    project = project.resolve()
    try:
        names = [p.name for p in load_pipelines(project)]
        store_path = resolve_store(project, store)
        console.rule("[bold]tidegate demo")
        console.print(
            assemble(
                "project ", (str(project.resolve()), "cyan"), "  store ", (str(store_path), "cyan")
            )
        )
        results = _run_pipelines(names, project, store_path, False, actor or "demo")
    except TidegateError as exc:
        raise fail(exc, EXIT_FAILED) from exc
    if _report(results, project, store, store_path).data_held:
        console.print(
            "[dim]The sample data is messy on purpose, so the demo exits 0; "
            f"`tidegate run` would exit {EXIT_DATA_HELD} here (see `tidegate run --help`).[/]"
        )
