"""`tidegate new source NAME --from FILE`: a contract inferred from FILE, and its pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import plain_lines
from tidegate.cli._common import ProjectOpt, console
from tidegate.cli._sample_options import DelimiterOpt, EncodingOpt, SampleFormatOpt

app = typer.Typer(
    help="Add to a project: `tidegate new source NAME --from FILE`.", no_args_is_help=True
)


def _pipeline_yaml(name: str, path: str, fmt: str, delimiter: str, encoding: str) -> str:
    from tidegate.cli._init_files import PIPELINE_MODELINE

    lines = [
        f"# The pipeline for {name!r}, written by `tidegate new source`.",
        f"name: {name}",
        "source:",
        "  kind: file",
        f"  path: {_quoted(path)}   # one file; a glob (folder/*.{fmt}) reads every match",
        f"  format: {fmt}",
    ]
    if fmt == "csv":
        lines += [f"  delimiter: {_quoted(delimiter)}", f"  encoding: {encoding}"]
    lines.append(f"contract: schemas/{name}.yaml")
    return PIPELINE_MODELINE + "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    import json

    return json.dumps(text)  # a JSON string is a YAML string, whatever it holds


@app.command("source")
def source(
    name: Annotated[str, typer.Argument(help="The new source's name (lower case, digits, _).")],
    from_file: Annotated[
        Path,
        typer.Option(
            "--from",
            help="A sample file of the source (CSV, JSON Lines or Parquet); every row is read.",
            exists=True,
            dir_okay=False,
        ),
    ],
    fmt: SampleFormatOpt = None,
    delimiter: DelimiterOpt = ",",
    encoding: EncodingOpt = "utf-8",
    project: ProjectOpt = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the contract and pipeline if they exist.")
    ] = False,
) -> None:
    """Infer a contract from a sample file into schemas/NAME.yaml and write
    pipelines/NAME.yaml reading that file; prints what it guessed and why."""
    from tidegate.cli._init_files import CONTRACT_MODELINE
    from tidegate.cli._sample import (
        infer_from_file,
        print_report,
        refuse_existing,
        write_text_file,
    )

    contract_path = project / "schemas" / f"{name}.yaml"
    pipeline_path = project / "pipelines" / f"{name}.yaml"
    if not force:
        refuse_existing([contract_path, pipeline_path])
    guess, found_fmt = infer_from_file(
        from_file, name, fmt=fmt, delimiter=delimiter, encoding=encoding
    )
    print_report(guess)
    data = from_file.resolve()
    try:
        where = str(data.relative_to(project.resolve()))
    except ValueError:
        where = str(data)  # outside the project: the absolute path
    hint = "choose another --project or fix its permissions"
    write_text_file(contract_path, CONTRACT_MODELINE + guess.yaml, hint)
    write_text_file(
        pipeline_path, _pipeline_yaml(name, where, found_fmt, delimiter, encoding), hint
    )
    here = "" if project == Path(".") else f" -p {project}"
    console.print(
        plain_lines(
            f"wrote {contract_path} and {pipeline_path} (reading {where}; for every file like it, "
            f"set path: to {Path(where).parent / ('*' + data.suffix)})\n"
            f"next: review {contract_path}, then\n"
            f"  tidegate schema check {contract_path}\n"
            f"  tidegate run {name}{here}"
        ),
        highlight=False,
    )
