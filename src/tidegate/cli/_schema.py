"""`tidegate schema check` and `tidegate schema infer`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate.cli._common import ProjectOpt, console, err_console, fail
from tidegate.errors import ContractError

app = typer.Typer(help="Define and check contracts (schemas/*.yaml).", no_args_is_help=True)


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Contract files. Default: every schemas/*.yaml.")
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Refuse a bad contract before any data moves: names the file, key, value and what is valid."""
    from tidegate.contracts import check_contracts, find_contracts

    paths = list(files or []) or find_contracts(project / "schemas")
    if not paths:
        raise fail(
            f"no contracts found in {project / 'schemas'}; "
            "write one or run `tidegate schema infer FILE`"
        )
    bad = 0
    for path, result in check_contracts(paths):
        if isinstance(result, ContractError):
            bad += 1
            err_console.print(f"[red]✗[/] {result}", highlight=False)
        else:
            console.print(
                f"[green]✓[/] {path}: source [bold]{result.source}[/] v{result.version}, "
                f"{len(result.columns)} columns, hash {result.content_hash[:12]}",
                highlight=False,
            )
    if bad:
        raise typer.Exit(1)


@app.command("infer")
def infer(
    file: Annotated[
        Path,
        typer.Argument(
            help="A sample data file (CSV, JSON Lines or Parquet).", exists=True, dir_okay=False
        ),
    ],
    source: Annotated[
        str | None, typer.Option(help="Source name. Default: from the file name.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (its folder is made) instead of stdout."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, jsonl, json or parquet. Default: from the suffix."),
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV delimiter.")] = ",",
    encoding: Annotated[str, typer.Option(help="File encoding.")] = "utf-8",
) -> None:
    """Write a starter contract from sample data, and print what it guessed and why.

    The table of guesses goes to stderr, so the YAML on stdout stays clean."""
    from tidegate.cli._sample import infer_from_file, print_report, source_name, write_text_file

    name = source or source_name(file)
    guess, _ = infer_from_file(file, name, fmt=fmt, delimiter=delimiter, encoding=encoding)
    print_report(guess)
    if output:
        write_text_file(output, guess.yaml, "choose another path with -o")
        console.print(f"wrote {output}; review it, then `tidegate schema check {output}`")
    else:
        typer.echo(guess.yaml)
