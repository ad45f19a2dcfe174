"""`tidegate schema check`, `infer` and `json-schema` (`export-gx`/`import-gx`: _schema_gx)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import assemble, plain
from tidegate.cli import _schema_gx, _schema_promote, _schema_shadow, _schema_versions
from tidegate.cli._common import ProjectOpt, console, err_console, fail
from tidegate.cli._sample_options import (
    DelimiterOpt,
    EncodingOpt,
    HeaderOpt,
    QuoteOpt,
    SampleFormatOpt,
    SkipRowsOpt,
)
from tidegate.errors import ContractError

if TYPE_CHECKING:
    from tidegate.sources._sniff import Dialect

app = typer.Typer(help="Define and check contracts (schemas/*.yaml).", no_args_is_help=True)
app.command("export-gx")(_schema_gx.export_gx)
app.command("import-gx")(_schema_gx.import_gx)
app.command("history")(_schema_versions.history)
app.command("diff")(_schema_versions.diff)
app.command("rollback")(_schema_versions.rollback)
app.command("shadow-report")(_schema_shadow.shadow_report)
app.command("promote")(_schema_promote.promote)


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Contract files. Default: every schemas/*.yaml.")
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Refuse a bad contract before any data moves: names the file, key, value and what is valid."""
    from tidegate.contracts import check_contracts, find_contracts
    from tidegate.pipelines._confine import confinement_problems
    from tidegate.pipelines._contract_file import shadow_candidates

    outside = confinement_problems(project)
    for refusal in outside:
        err_console.print(assemble(("✗", "red"), f" {refusal}"), highlight=False)
    if outside:
        raise typer.Exit(2)
    paths = list(files or []) or find_contracts(project / "schemas")
    candidates = shadow_candidates(project)
    if not paths:
        raise fail(
            f"no contracts found in {project / 'schemas'}; "
            "write one or run `tidegate schema infer FILE`"
        )
    bad = problems = 0
    for path, result in check_contracts(paths, candidates):
        if isinstance(result, ContractError):
            bad += 1
            problems += len(result.problems)
            for problem in result.problems:
                err_console.print(assemble(("✗", "red"), f" {problem}"), highlight=False)
            if len(result.problems) > 1:
                line = plain(f"  {path}: {len(result.problems)} problems")
                err_console.print(line, highlight=False)
        else:
            console.print(
                assemble(
                    ("✓", "green"),
                    f" {path}: source ",
                    (result.source, "bold"),
                    f" v{result.version}, {len(result.columns)} columns, "
                    f"hash {result.content_hash[:12]}",
                    " (a shadow candidate)" if path.resolve() in candidates else "",
                ),
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
        Path | None,
        typer.Option("--output", "-o", help="Write here (its folder is made) instead of stdout."),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            "--pipeline",
            help="Also write this pipeline file reading FILE, or update the CSV options "
            "of its source: if it exists.",
            dir_okay=False,
        ),
    ] = None,
    fmt: SampleFormatOpt = None,
    delimiter: DelimiterOpt = None,
    quote: QuoteOpt = None,
    skip_rows: SkipRowsOpt = None,
    header: HeaderOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Write a starter contract from sample data, and print what it guessed and why.

    A CSV file's dialect (delimiter, quote, preamble, header) is detected with DuckDB's
    sniff_csv; the options given here win. The tables of guesses go to stderr, so the
    YAML on stdout stays clean."""
    from tidegate.cli._sample import infer_from_file, print_report, source_name, write_text_file
    from tidegate.sources._sniff import DialectGiven

    name = source or source_name(file)
    given = DialectGiven(delimiter, quote, skip_rows, header, encoding)
    sample = infer_from_file(file, name, fmt=fmt, given=given)
    if pipeline is not None:
        _write_pipeline(pipeline, file, name, sample.fmt, sample.dialect, output)
    if output:
        write_text_file(output, sample.guess.yaml, "choose another path with -o")
        print_report(sample)
        console.print(plain(f"wrote {output}; review it, then `tidegate schema check {output}`"))
    else:
        print_report(sample)
        typer.echo(sample.guess.yaml)


def _write_pipeline(
    pipeline: Path, file: Path, name: str, fmt: str, dialect: Dialect | None, output: Path | None
) -> None:
    """Write a new pipeline file reading ``file``, or update the CSV options of the
    ``source:`` of an existing one (every other line is kept)."""
    from tidegate.cli._pipeline_file import pipeline_yaml, updated_pipeline
    from tidegate.cli._sample import write_text_file

    hint = "choose another path with --pipeline"
    if pipeline.exists():
        if dialect is None:
            raise fail(
                f"{file} is not a CSV file: there are no CSV options to update in {pipeline}"
            )
        text = pipeline.read_text(encoding="utf-8")
        write_text_file(pipeline, updated_pipeline(pipeline, text, dialect), hint)
        err_console.print(f"updated the source: of {pipeline}", highlight=False)
        return
    where, contract = (
        _relative(file.resolve()),
        _relative((output or Path("schemas") / f"{name}.yaml").resolve()),
    )
    write_text_file(pipeline, pipeline_yaml(name, where, fmt, dialect, contract), hint)
    err_console.print(
        f"wrote {pipeline} (paths relative to {Path.cwd()}: run tidegate from there)",
        highlight=False,
    )


def _relative(path: Path) -> str:
    """``path`` from the current folder (the project root tidegate runs in), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
    from tidegate.reference import json_schema_text

    text = json_schema_text(kind.value)
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
        plain(
            f"wrote {output}; start a YAML file with "
            f"`# yaml-language-server: $schema={output.name}` (a path relative to it)"
        ),
        highlight=False,
    )
