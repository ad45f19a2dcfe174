"""`tidegate schema history`, `diff` and `rollback`: the contract versions that committed
batches (recorded in the store's ``contract_versions``), what changed between two, and
a way back. History and diff only read: they import neither Prefect, GX nor polars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.cli._version_pick import (
    contract_of,
    is_file_spec,
    label,
    pick_version,
    recorded,
)
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store
    from tidegate.store._contract_versions import ContractVersion

SourceArg = Annotated[str, typer.Argument(help="The source (the `source:` of its contract).")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
UNBUMPED = "changed without a version bump"


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise fail(f"--format {value!r} is not valid; use table or json")
    return value


def _versions(store: Store, source: str) -> list[ContractVersion]:
    """The recorded versions of ``source``; none is one line naming the sources that have."""
    from tidegate.store._contract_versions import read_versions, sources_with_versions

    try:
        versions = read_versions(store, source)
        if not versions:
            others = sources_with_versions(store)
    except TidegateError as exc:
        raise fail(exc) from None
    if not versions:
        raise fail(
            f"no contract version of source {source!r} is recorded in {store} (sources with "
            f"recorded versions: {', '.join(others) or 'none'}); versions are recorded when "
            "a batch commits: run the pipeline first"
        )
    return versions


def history(
    source: SourceArg,
    output: FormatOpt = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """List the contract versions that committed batches of SOURCE, oldest first: version,
    hash, when and by which batch first, how many batches; a version number recorded
    under two texts is marked (the file changed without a version bump)."""
    from tidegate.store._contract_versions import unbumped_versions

    fmt = _format(output)
    target = resolve_store(project, store)
    versions = _versions(target, source)
    unbumped = unbumped_versions(versions)  # version number -> its texts
    from tidegate.pipelines._contract_file import current_contract_text

    text = current_contract_text(project, source)
    # the file holds a recorded text byte for byte (as rollback and promote write it)
    current = next((v.content_hash for v in versions if v.contract_text == text), None)

    def note(v: ContractVersion) -> str:
        notes = ["current"] if v.content_hash == current else []
        return ", ".join([*notes, *(["no bump"] if v.version in unbumped else [])])

    if fmt == "json":
        rows = [
            {
                "version": v.version,
                "content_hash": v.content_hash,
                "first_committed_at": v.first_committed_at.isoformat(),
                "first_batch_id": v.first_batch_id,
                "batches": v.batches,
                "suite_path": v.suite_path,
                "changed_without_bump": v.version in unbumped,
                "current": v.content_hash == current,
            }
            for v in versions
        ]
        typer.echo(json.dumps({"source": source, "versions": rows}, indent=2))
        return
    from tidegate.cli._id_table import Col, print_id_table
    from tidegate.store._batch_ids import short_batch_ids

    short = short_batch_ids(target, (v.first_batch_id for v in versions))
    columns = (
        Col("version"),
        Col("hash"),
        Col("first committed (UTC)", floor=19),
        Col("first batch"),
        Col("batches"),
        Col("note", floor=10),
    )
    print_id_table(
        console,
        columns,
        [
            {
                "version": str(v.version),
                "hash": v.content_hash[:12],
                "first committed (UTC)": v.first_committed_at.isoformat(" ")[:19],
                "first batch": short.get(v.first_batch_id, v.first_batch_id),
                "batches": str(v.batches),
                "note": note(v),
            }
            for v in versions
        ],
    )
    for number, same in unbumped.items():
        console.print(
            plain(
                f"warning: version {number} of {source} {UNBUMPED}: committed under "
                f"{len(same)} texts ({', '.join(v.content_hash[:12] for v in same)}); bump "
                "`version:` whenever the contract changes"
            ),
            highlight=False,
        )


def diff(
    source: SourceArg,
    v1: Annotated[str, typer.Argument(help="A version number, a hash prefix or a contract file.")],
    v2: Annotated[str, typer.Argument(help="The same, for the newer side.")],
    output: FormatOpt = "table",
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Say in words what changed from V1 to V2 of SOURCE: columns added, removed or
    renamed, types, nullable/unique/pii, checks, normalization, policy, primary key and
    the GX suite. Each side is a recorded version (number or hash prefix) or a file."""
    fmt = _format(output)
    needs_store = not (is_file_spec(v1, project) and is_file_spec(v2, project))
    versions = _versions(resolve_store(project, store), source) if needs_store else []
    a, b = contract_of(source, versions, v1, project), contract_of(source, versions, v2, project)
    result = a.diff(b)
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    console.print(
        plain(
            f"{source}: v{a.version} ({a.content_hash[:12]}) → v{b.version} "
            f"({b.content_hash[:12]}), {len(result.changes)} changes"
        ),
        highlight=False,
    )
    for line in result.lines():
        console.print(plain(f"  - {line}"), highlight=False)


def rollback(
    source: SourceArg,
    version: Annotated[
        str | None,
        typer.Argument(
            help="The version to restore (a number or a hash prefix). Default: the one "
            "committed before the current file's."
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="Confirm: write the file (without it: say what it would write)."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite a file holding text no batch committed under."),
    ] = False,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: Annotated[
        str | None,
        typer.Option(help="Who rolls back (default: TIDEGATE_ACTOR, else system:<login name>)."),
    ] = None,
) -> None:
    """Restore the text an earlier version of SOURCE committed under into its current
    contract file (the one its pipeline names in `contract:`), and its GX suite file;
    audited as `contract_rolled_back`. The next run commits under the restored version."""
    from tidegate.cli._rollback import plan_rollback, write_rollback

    target = resolve_store(project, store)
    versions = _versions(target, source)
    plan = plan_rollback(project, source, versions, force)
    chosen = pick_version(source, versions, version) if version else plan.default
    if chosen is None:
        raise fail(
            f"nothing to roll back to: {plan.path} holds the first recorded version of "
            f"{source} (recorded: {recorded(versions)}); name a version to restore"
        )
    if plan.current is not None and chosen.content_hash == plan.current.content_hash:
        raise fail(f"{plan.path} already holds {label(chosen)}; name another version")
    if not yes:
        raise fail(
            f"this writes {label(chosen)} of {source} into {plan.path} (now "
            f"{plan.current_label}); see `tidegate schema diff {source} "
            f"{plan.current_ref} {chosen.content_hash[:12]}`, then run again with --yes"
        )
    seq = write_rollback(target, plan, chosen, actor)
    console.print(
        plain(
            f"rolled back {plan.path} from {plan.current_label} to {label(chosen)} "
            f"(audit seq {seq}, contract_rolled_back)"
        ),
        highlight=False,
    )
    console.print(
        plain(
            f"next: the next run commits under version {chosen.version}: "
            f"`tidegate run {plan.pipeline}`"
        ),
        highlight=False,
    )
