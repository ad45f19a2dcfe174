"""`tidegate new source NAME --from FILE`: a contract inferred from FILE, and its pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import plain_lines
from tidegate.cli._common import ProjectOpt, console
from tidegate.cli._sample_options import (
    DelimiterOpt,
    EncodingOpt,
    HeaderOpt,
    QuoteOpt,
    SampleFormatOpt,
    SkipRowsOpt,
)

app = typer.Typer(
    help="Add to a project: `tidegate new source NAME --from FILE`.", no_args_is_help=True
)


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
    delimiter: DelimiterOpt = None,
    quote: QuoteOpt = None,
    skip_rows: SkipRowsOpt = None,
    header: HeaderOpt = None,
    encoding: EncodingOpt = None,
    project: ProjectOpt = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the contract and pipeline if they exist.")
    ] = False,
) -> None:
    """Infer a contract from a sample file into schemas/NAME.yaml and write
    pipelines/NAME.yaml reading that file; prints what it guessed and why.

    A CSV file's dialect (delimiter, quote, preamble, header) is detected with DuckDB's
    sniff_csv and written into the pipeline; the options given here win."""
    from tidegate.cli._init_files import CONTRACT_MODELINE
    from tidegate.cli._pipeline_file import pipeline_yaml
    from tidegate.cli._sample import (
        infer_from_file,
        print_report,
        refuse_existing,
        write_text_file,
    )
    from tidegate.sources._sniff import DialectGiven

    contract_path = project / "schemas" / f"{name}.yaml"
    pipeline_path = project / "pipelines" / f"{name}.yaml"
    if not force:
        refuse_existing([contract_path, pipeline_path])
    given = DialectGiven(delimiter, quote, skip_rows, header, encoding)
    sample = infer_from_file(from_file, name, fmt=fmt, given=given)
    print_report(sample)
    data = from_file.resolve()
    allowed = None
    try:
        where = str(data.relative_to(project.resolve()))
    except ValueError:
        where, allowed = str(data), data.parent  # outside the project: allowed by name
    hint = "choose another --project or fix its permissions"
    write_text_file(contract_path, CONTRACT_MODELINE + sample.guess.yaml, hint)
    contract = f"schemas/{name}.yaml"
    text = pipeline_yaml(name, where, sample.fmt, sample.dialect, contract, allowed)
    write_text_file(pipeline_path, text, hint)
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
