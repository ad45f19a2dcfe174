"""`tidegate audit ...`: query and verify the audit trail. Every command but `key rotate`
only reads the store, and none imports Prefect."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import assemble, plain
from tidegate.cli import _audit_key
from tidegate.cli._common import ProjectOpt, StoreOpt, console, fail, resolve_store
from tidegate.cli._list_options import (
    BatchOpt,
    FormatOpt,
    LimitOpt,
    SinceOpt,
    SourceOpt,
    UntilOpt,
    batch_id,
)
from tidegate.errors import TidegateError

app = typer.Typer(help="Query and verify the audit trail.", no_args_is_help=True)
app.add_typer(_audit_key.app, name="key")

EventOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--event", "-e", help="Only this event type (repeat, or comma-separate, for several)."
    ),
]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Only entries by this actor.")]


PublicKeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="The audit public key to trust (from `tidegate audit key show -o FILE`); "
        "default: the local key file, if there is one.",
        dir_okay=False,
    ),
]


@app.command("verify")
def verify(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A checkpoint from `tidegate audit checkpoint`: also detect a cut-off tail "
            "or a rewrite before it.",
            dir_okay=False,
        ),
    ] = None,
    public_key: PublicKeyOpt = None,
) -> None:
    """Recompute the hash chain and check every signature; exit 1 naming the first bad
    sequence number."""
    from tidegate.audit._checkpoint import read_checkpoint, verify_store_against
    from tidegate.audit._verify import verify_chain

    path = resolve_store(project, store)
    problem = None
    try:
        if against is None:
            report = verify_chain(path, public_key)
        else:
            checked = verify_store_against(path, read_checkpoint(against), public_key)
            report, problem = checked.chain, checked.problem
    except TidegateError as exc:
        raise fail(exc) from exc
    signatures = report.signatures
    if not report.ok and report.kind == "signature":
        console.print(
            assemble(
                (f"audit chain signature bad at seq {report.first_bad_seq}", "bold red"),
                f": {report.reason} (trusting {signatures.trust if signatures else '?'}); "
                "compare with a backup of the store and find who had write access",
            ),
            highlight=False,
        )
        raise typer.Exit(1)
    if not report.ok:
        console.print(
            assemble(
                (f"audit chain broken at seq {report.first_bad_seq}", "bold red"),
                f": {report.reason} ({report.entries} entries before it verified); compare "
                "with a backup of the store and find who had write access",
            ),
            highlight=False,
        )
        raise typer.Exit(1)
    if problem:
        console.print(
            assemble(
                (f"audit chain does not match checkpoint {against}", "bold red"), f": {problem}"
            ),
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(
        f"[green]audit chain intact[/]: {report.entries} entries verified, "
        f"head seq {report.head_seq}, head hash {report.head_hash}",
        highlight=False,
    )
    if signatures is not None:
        if signatures.unsigned_before:
            console.print(
                plain(
                    f"{signatures.unsigned_before} entries before signing was enabled "
                    f"(seq 1..{signatures.unsigned_before}), pinned by the signed entries "
                    "after them"
                ),
                highlight=False,
            )
        console.print(
            assemble(
                (f"{signatures.signed} signatures good", "green"), f", trusting {signatures.trust}"
            ),
            highlight=False,
        )
    if against is not None:
        console.print(plain(f"and it extends checkpoint {against}", "green"), highlight=False)


@app.command("checkpoint")
def checkpoint(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write the signed checkpoint to.")
    ],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
) -> None:
    """Export the verified head of the chain (entry count, head hash) as a C2SP signed
    note, signed by the audit key, to keep elsewhere."""
    from tidegate.audit._checkpoint import checkpoint_signer, make_checkpoint

    try:
        signer = checkpoint_signer()
        cp = make_checkpoint(resolve_store(project, store))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(cp.to_signed_note(signer), encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write checkpoint {output}: {exc}; pick another path") from exc
    except TidegateError as exc:
        raise fail(exc) from exc
    console.print(
        plain(
            f"checkpoint written to {output}: {cp.entries} entries, head seq {cp.head_seq}, "
            f"hash {cp.head_hash}, signed by key {signer.key_id}"
        ),
        highlight=False,
    )
    console.print(plain(f"later: `tidegate audit verify --against {output}`"), highlight=False)


@app.command("list")
def list_entries(
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    source: SourceOpt = None,
    event: EventOpt = None,
    actor: ActorOpt = None,
    batch: BatchOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: LimitOpt = 20,
    page: Annotated[int, typer.Option(min=1, help="Page 1 is the newest entries.")] = 1,
    oldest_first: Annotated[
        bool, typer.Option("--oldest-first", help="Page from the oldest entries instead.")
    ] = False,
    output: FormatOpt = "table",
    as_json: Annotated[bool, typer.Option("--json", hidden=True)] = False,
) -> None:
    """List audit entries with filters and paging: 20 a page, newest page first (oldest
    line first); the same -n/--limit, --since, --source and --batch as `quarantine list`."""
    from tidegate.audit._filters import AuditFilter
    from tidegate.audit._query import list_entries as read_page
    from tidegate.audit._render import check_format, print_entries

    try:
        fmt = check_format("json" if as_json else output)
        path = resolve_store(project, store)
        flt = AuditFilter.from_options(
            source=source,
            events=event,
            actor=actor,
            batch=batch_id(path, batch),
            since=since,
            until=until,
        )
        result = read_page(path, flt, limit=limit, page=page, oldest_first=oldest_first)
        if fmt == "table":
            from tidegate.store._batch_ids import short_batch_ids

            labels = short_batch_ids(path, (e.batch_id for e in result.entries if e.batch_id))
    except TidegateError as exc:
        raise fail(exc) from exc
    if fmt != "table":
        print_entries(console, result.entries, fmt)
    else:
        from tidegate.cli._audit_table import print_audit_entries

        print_audit_entries(console, result.entries, labels)
        more = " (--page N for more)" if result.pages > 1 else ""
        console.print(
            f"page {page} of {result.pages}: {len(result.entries)} of {result.total} "
            f"matching entries{more}",
            highlight=False,
        )


@app.command("show")
def show(
    target: Annotated[str, typer.Argument(help="A seq number, or a batch id (or its prefix).")],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    output: FormatOpt = "table",
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Decrypt the PII values of the entries (unless their key was erased); "
            "the reveal is audited.",
        ),
    ] = False,
) -> None:
    """Show one entry by seq with its detail, or every entry of a batch.

    PII values are stored encrypted ({"pii": true, "key": ..., "ciphertext": ...});
    --reveal decrypts them while the store's PII key lives."""
    from tidegate.audit._query import entries_of_batch, entry_by_seq
    from tidegate.audit._render import check_format, print_entries, print_entry_detail

    path = resolve_store(project, store)
    try:
        fmt = check_format(output)
        entries = (
            [entry_by_seq(path, int(target))]
            if target.isdigit()
            else entries_of_batch(path, target)
        )
        if reveal:
            from tidegate.cli._pii import open_entries

            entries = open_entries(path, entries)
    except TidegateError as exc:
        raise fail(exc) from exc
    if fmt != "table":
        print_entries(console, entries, fmt)
        return
    for entry in entries:
        print_entry_detail(console, entry)


@app.command("sql")
def sql(
    query: Annotated[
        str, typer.Argument(help='One read-only statement, e.g. "SELECT * FROM audit".')
    ],
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 1000,
    output: FormatOpt = "table",
) -> None:
    """Run one SELECT over the store (audit, quarantine, checkpoints, targets); never writes.

    On PostgreSQL it runs read-only, with a statement timeout, as the store's reader role
    (made by `tidegate store init`); functions that reach the server's files or other
    sessions (pg_read_file, pg_sleep, pg_advisory_lock, dblink, ...) are refused."""
    from tidegate.audit._render import check_format, print_rows
    from tidegate.audit._sql import run_read_query

    try:
        fmt = check_format(output)
        result = run_read_query(resolve_store(project, store), query, limit=limit)
    except TidegateError as exc:
        raise fail(exc) from exc
    print_rows(console, result.columns, result.rows, fmt)
    if result.truncated:
        from tidegate.cli._common import err_console

        err_console.print(
            f"only the first {limit} rows are shown; raise --limit or add LIMIT/WHERE",
            highlight=False,
        )


@app.command("trace")
def trace(
    source: Annotated[str, typer.Argument(help="The source, as named in schemas/.")],
    key: Annotated[
        str | None,
        typer.Argument(help="Primary key value, or k1=v1,k2=v2 for a composite key."),
    ] = None,
    line: Annotated[
        str | None,
        typer.Option(
            "--line",
            "-l",
            help="Trace a line instead of a key: FILE:LINE (e.g. orders.csv:57) or LINE "
            "(the record number, in any file of the source).",
        ),
    ] = None,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Follow one record: its row, file and line, batch, contract, normalizations, reviews,
    and every line that was an exact duplicate of it (which line of which batch it repeats)."""
    from tidegate._safe_text import json_dumps
    from tidegate.audit._render import print_trace
    from tidegate.audit._trace import parse_key, parse_line, trace_line, trace_record
    from tidegate.review import contract_for, contracts_by_source

    if output not in ("table", "json"):
        raise fail(f"--format {output!r} is not valid; use table or json")
    if (key is None) == (line is None):
        raise fail(
            "give a KEY or --line FILE:LINE, one of the two "
            f"(e.g. `tidegate audit trace {source} 1009` or "
            f"`tidegate audit trace {source} --line orders.csv:57`)"
        )
    try:
        contract = contract_for(contracts_by_source(project.resolve()), source)
        if line is not None:
            location, record = parse_line(line)
            found = trace_line(resolve_store(project, store), contract, location, record)
        else:
            found = trace_record(
                resolve_store(project, store),
                contract,
                parse_key(str(key), contract.primary_key, source),
            )
    except TidegateError as exc:
        raise fail(exc) from exc
    if output == "json":
        typer.echo(json_dumps(found.as_dict(), indent=2, default=str))
    else:
        print_trace(console, found)
    if not found.found:
        if output == "table" and line is not None:
            console.print(
                plain(
                    f"no line {line} of {source} is in the store (loaded, quarantined or a "
                    "duplicate); check the file and line with `tidegate audit list --source "
                    f"{source}`"
                ),
                highlight=False,
            )
        elif output == "table":
            console.print(
                plain(
                    f"no record of {source} has key {key!r}, loaded or quarantined; check the "
                    f'value with `tidegate audit sql "SELECT * FROM {contract.target_table} '
                    'LIMIT 5"`'
                ),
                highlight=False,
            )
        raise typer.Exit(1)
