"""`tidegate schema check`, `tidegate schema infer` and `tidegate schema json-schema`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tidegate.cli._common import ProjectOpt, console, err_console, fail
from tidegate.errors import ContractError, TidegateError

app = typer.Typer(help="Define and check contracts (schemas/*.yaml).", no_args_is_help=True)


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Contract files. Default: every schemas/*.yaml.")
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Refuse a bad contract before any data moves: names the file, key, value and what is valid."""
    from rich.markup import escape

    from tidegate.contracts import check_contracts, find_contracts

    paths = list(files or []) or find_contracts(project / "schemas")
    if not paths:
        raise fail(
            f"no contracts found in {project / 'schemas'}; "
            "write one or run `tidegate schema infer FILE`"
        )
    bad = problems = 0
    for path, result in check_contracts(paths):
        if isinstance(result, ContractError):
            bad += 1
            problems += len(result.problems)
            for problem in result.problems:
                err_console.print(f"[red]✗[/] {escape(str(problem))}", highlight=False)
            if len(result.problems) > 1:
                err_console.print(f"  {path}: {len(result.problems)} problems", highlight=False)
        else:
            console.print(
                f"[green]✓[/] {path}: source [bold]{result.source}[/] v{result.version}, "
                f"{len(result.columns)} columns, hash {result.content_hash[:12]}",
                highlight=False,
            )
    if bad:
        noun = "file" if len(paths) == 1 else "files"
        err_console.print(
            f"{problems} problem{'s' if problems != 1 else ''} in {bad} of {len(paths)} {noun}; "
            "fix them, then run `tidegate schema check` again "
            "(every key: docs/reference.md)",
            highlight=False,
        )
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
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV delimiter.")] = ",",
    encoding: Annotated[str, typer.Option(help="File encoding.")] = "utf-8",
) -> None:
    """Write a starter contract from sample data (review it before use)."""
    import re

    from tidegate.contracts import infer_contract
    from tidegate.sources import FileChangedError, FileReject, FileSource

    name = source or re.sub(r"[^a-z0-9_]", "_", file.stem.lower()).strip("_") or "source"
    try:
        reader = FileSource(name, str(file), delimiter=delimiter, encoding=encoding)
        ((path, fmt),) = reader.files()
        item = reader.read_file(path, fmt)  # the whole file: every row informs the guess
    except TidegateError as exc:
        raise fail(exc) from exc
    except FileChangedError as exc:
        raise fail(f"{exc}; run the command again once the file is complete") from exc
    if isinstance(item, FileReject):
        raise fail(f"cannot read {file}: {item.reason}")
    text = infer_contract(item.frame.drop("_tidegate_record"), name)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}; review it, then `tidegate schema check {output}`")
    else:
        typer.echo(text)


class SchemaKind(StrEnum):
    """Which file a JSON Schema is for."""

    contract = "contract"
    pipeline = "pipeline"


@app.command("json-schema")
def json_schema(
    kind: Annotated[
        SchemaKind,
        typer.Argument(
            help="Which file: contract (schemas/*.yaml) or pipeline (pipelines/*.yaml)."
        ),
    ] = SchemaKind.contract,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of contract or pipeline files, for editors that lint YAML."""
    import json

    from tidegate.reference import contract_json_schema, pipeline_json_schema

    schema = contract_json_schema() if kind is SchemaKind.contract else pipeline_json_schema()
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(
            f"cannot write {output}: {exc.strerror or exc}; pick a writable path for --output"
        ) from None
    console.print(
        f"wrote {output}; start a YAML file with "
        f"`# yaml-language-server: $schema={output.name}` (a path relative to it)",
        highlight=False,
    )
