"""`tidegate store init`: create the store, and on PostgreSQL grant the roles that use it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import assemble, markup_safe, plain
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.errors import TidegateError

app = typer.Typer(
    help="Set up the store: a DuckDB file, or a PostgreSQL database for a team.",
    no_args_is_help=True,
)


@app.command("init")
def init(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    grant_writer: Annotated[
        list[str] | None,
        typer.Option(
            "--grant-writer",
            help=(
                "PostgreSQL role that runs flows and review actions: INSERT and SELECT on "
                "the audit log only, so it can neither change entries nor drop the "
                "append-only triggers. A superuser or a member of the owner's role is "
                "refused. Repeat for several roles."
            ),
        ),
    ] = None,
) -> None:
    """Create the store's tables (and, on PostgreSQL, the append-only audit triggers),
    and the local audit signing key if there is none.

    Run it once as the role that should own the store; flows create the tables on
    first use too, but only `init` grants a separate writer role. Run again (as the
    owner), it puts back missing or disabled triggers and renews older trigger functions.
    """
    from tidegate.store._init import init_store

    target = resolve_store(project, store)
    try:
        report = init_store(target, tuple(grant_writer or ()))
    except TidegateError as exc:
        raise fail(exc) from None
    console.print(
        assemble("store ", (str(report.store), "cyan"), f" ready: {', '.join(report.tables)}")
    )
    for statement in report.granted:
        console.print(assemble("  ", ("✓", "green"), f" {statement}"), highlight=False)
    made = "made now" if report.key_made else "in place"
    console.print(
        plain(
            f"audit signing key {report.key_id} ({report.key_where}, {made}): it signs every "
            "audit entry; `tidegate audit key show` prints its public key"
        ),
        highlight=False,
    )


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty PostgreSQL store to fill: postgresql://user:${PASSWORD}@host/db",
        ),
    ],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Copy this project's DuckDB store, history and all, into an empty PostgreSQL store.

    The audit chain is verified before and after (same entries, same head hash); files
    and SQL windows already committed stay committed, so the next run skips them.
    """
    from rich.progress import Progress

    from tidegate.audit import verify_chain
    from tidegate.store import open_store
    from tidegate.store._copy import can_copy, copy_store

    source, target = resolve_store(project, store), open_store(to)
    if not can_copy(source, target):
        raise fail(
            f"copy goes from a DuckDB file (--store, now {source}) to a PostgreSQL store "
            f"(--to postgresql://..., now {target})"
        )
    try:
        before = verify_chain(source)
        if not before.ok:
            raise fail(
                f"the audit chain of {source} is broken at seq {before.first_bad_seq}; "
                "run `tidegate audit verify` and resolve that before copying it",
                code=1,
            )
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("copying", total=None)

            def progress(table: str, rows: int) -> None:
                bar.update(task, description=markup_safe(f"{table}: {rows:,} rows"))

            report = copy_store(source, target, progress)
        after = verify_chain(target)
    except TidegateError as exc:
        raise fail(exc) from None
    for table, rows in report.rows.items():
        console.print(assemble("  ", ("✓", "green"), f" {table}: {rows:,} rows"), highlight=False)
    if not after.ok or (after.entries, after.head_hash) != (before.entries, before.head_hash):
        raise fail(
            f"the copy's audit chain does not match the original: {after.entries} entries "
            f"(first bad seq {after.first_bad_seq}), head {after.head_hash[:12]}, against "
            f"{before.entries} and {before.head_hash[:12]}",
            code=1,
        )
    console.print(
        plain(
            f"copied {source} -> {target}: {after.entries} audit entries, "
            f"head {after.head_hash[:12]} (the same chain); point TIDEGATE_STORE at the new store"
        )
    )


@app.command("erase-pii-key")
def erase_pii_key(
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="Confirm: every PII value in the audit so far becomes unrecoverable.",
        ),
    ] = False,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: Annotated[
        str | None,
        typer.Option(help="Who erases (default: TIDEGATE_ACTOR, else system:<login name>)."),
    ] = None,
) -> None:
    """Destroy the store's PII key, for an erasure request: the PII values in the audit
    (edits, replays) stay encrypted for good, while `tidegate audit verify` still passes.

    Irreversible; audited as `pii_key_erased`. Later PII values get a new key.
    """
    from tidegate.store import default_actor
    from tidegate.store._pii_keys import erase_pii_keys

    target = resolve_store(project, store)
    if not yes:
        raise fail(
            f"erasing the PII key of {target} cannot be undone: every PII value in its "
            "audit becomes unrecoverable; run again with --yes to go ahead"
        )
    if not target.exists():
        raise fail(f"no store at {target}; nothing to erase (run a flow or `tidegate store init`)")
    try:
        erased = erase_pii_keys(target, actor or default_actor())
    except TidegateError as exc:
        raise fail(exc) from None
    if not erased:
        console.print(
            assemble("store ", (str(target), "cyan"), " holds no live PII key; nothing was erased")
        )
        return
    console.print(
        assemble(
            f"erased PII key {', '.join(erased)} of ",
            (str(target), "cyan"),
            ": the PII values sealed under it are unrecoverable; audited as pii_key_erased "
            "(`tidegate audit verify` still passes)",
        ),
        highlight=False,
    )
