"""`tidegate quarantine recheck --contract FILE`: what a candidate contract would do to
the pending records, before it is made current; nothing is written.

It judges each pending record of the candidate's source exactly as `tidegate quarantine
replay` would once the candidate is the current contract (:mod:`tidegate.review._recheck`).
It imports neither Prefect nor Great Expectations (unless the candidate has a suite).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import json_dumps, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, err_console, fail, resolve_store
from tidegate.cli._list_options import batch_id
from tidegate.cli._quarantine_options import BatchOpt, RuleOpt
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.review import RecheckResult

ContractOpt = Annotated[
    Path,
    typer.Option(
        "--contract",
        help="The candidate contract file (e.g. schemas/orders.v4.yaml; a relative path is "
        "looked for here, then under --project), for the same source.",
        dir_okay=False,
    ),
]

SourceOpt = Annotated[
    str | None,
    typer.Option("--source", "-s", help="The source (must be the candidate's `source:`)."),
]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in counts.items())


def _ids(ids: tuple[int, ...] | list[int], total: int) -> str:
    return ", ".join(map(str, ids)) + (" ..." if total > len(ids) else "")


def _print_table(result: RecheckResult, contract: Path, matching: str) -> None:
    samples = result.as_dict()["samples"]
    now = (
        f" ({result.accepted_now} by the current contract)"
        if result.accepted_now is not None
        else ""
    )
    lines = [
        f"{result.records} pending record(s) of {result.source}{matching}, rechecked under "
        f"{contract} (version {result.version})",
        f"  {result.accepted} would be accepted by the candidate{now}",
        f"  {result.still_failing} would still fail",
    ]
    if result.passed_by_rule:
        lines.append(f"  would pass, by the rule failed now: {_counts(result.passed_by_rule)}")
    if result.failing_by_rule:
        lines.append(f"  would still fail, by rule: {_counts(result.failing_by_rule)}")
    if samples["accepted"]:
        lines.append(f"  accepted, ids: {_ids(samples['accepted'], result.accepted)}")
    if samples["still_failing"]:
        lines.append(
            f"  still failing, ids: {_ids(samples['still_failing'], result.still_failing)}"
        )
    if result.refused_existing_key:
        lines.append(
            f"  key already loaded and on_existing_key is quarantine: ids "
            f"{_ids(result.refused_existing_key[:10], len(result.refused_existing_key))}; "
            "replay stops at these: edit the key or reject them first"
        )
    if result.file_level == 1:
        lines.append("1 file-level entry is not a record and is not rechecked")
    elif result.file_level:
        lines.append(
            f"{result.file_level} file-level entries are not records and are not rechecked"
        )
    lines.append(
        "nothing was written; once the candidate is the current contract, "
        f"`tidegate quarantine replay --source {result.source}` loads the accepted records"
    )
    for line in lines:
        console.print(plain(line), highlight=False, soft_wrap=True)


def _in_project(contract: Path, project: Path) -> Path:
    """A relative path as given if it exists from here, else under the project folder
    (as a pipeline file names its contracts)."""
    if contract.is_absolute() or contract.exists():
        return contract
    under = project / contract
    return under if under.exists() else contract


def recheck(
    contract: ContractOpt,
    source: SourceOpt = None,
    rule: RuleOpt = None,
    batch: BatchOpt = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Say how many pending records a candidate contract would accept, writing nothing:
    each record (its edit, if any) judged as `replay` will judge it under the candidate,
    beside the current contract's verdict, by rule, with sample ids."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tidegate.contracts import load_contract
    from tidegate.review import current_contract
    from tidegate.review import recheck as recheck_records

    if output not in ("table", "json"):
        raise fail(f"--format {output!r} is not valid; use table or json")
    try:
        candidate = load_contract(_in_project(contract, project))
        if source and source != candidate.source:
            raise fail(
                f"--source {source!r} does not match the candidate's source "
                f"{candidate.source!r} ({contract}); drop --source or pass a contract of "
                f"{source!r}"
            )
        store_path = resolve_store(project, store)
        current = current_contract(project.resolve(), candidate.source)
        with Progress(
            TextColumn("rechecking"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task("recheck", total=None)
            result = recheck_records(
                store_path,
                candidate,
                current=current,
                rule=rule,
                batch=batch_id(store_path, batch),
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except TidegateError as exc:
        raise fail(exc) from exc
    matching = (f" failing {rule}" if rule else "") + (f" of batch {batch}" if batch else "")
    if result.records == 0 and result.file_level == 0:
        console.print(
            plain(f"nothing to recheck: 0 pending records of {candidate.source}{matching}"),
            highlight=False,
        )
        return
    if output == "json":
        typer.echo(json_dumps({"contract": str(contract), **result.as_dict()}))
        return
    _print_table(result, contract, matching)
