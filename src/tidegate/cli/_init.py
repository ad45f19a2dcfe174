"""`tidegate init [DIR]`: a project skeleton with one commented contract and pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tidegate._safe_text import plain, plain_lines
from tidegate.cli._common import console


def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Project folder to set up (made if missing). Default: here.", file_okay=False
        ),
    ] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist already.")
    ] = False,
) -> None:
    """Start a project: schemas/, pipelines/, a sample in data/, and a .gitignore for the store.

    Refuses to overwrite an existing file unless --force is given."""
    from tidegate.cli._init_files import PROJECT_FILES
    from tidegate.cli._sample import refuse_existing, write_text_file

    targets = [(directory / rel, content) for rel, content in PROJECT_FILES]
    if not force:
        refuse_existing([path for path, _ in targets])
    for path, content in targets:
        write_text_file(path, content(), "choose another folder or fix its permissions")
        console.print(plain(f"wrote {path}"), highlight=False)
    here = "" if directory == Path(".") else f" -p {directory}"
    console.print(
        plain_lines(
            "next: edit schemas/example.yaml and pipelines/example.yaml, then\n"
            f"  tidegate schema check{here}      # the contract is valid\n"
            f"  tidegate run example{here}       # load the sample, quarantine its bad row\n"
            f"  tidegate quarantine list{here}   # review what was held back\n"
            "a contract for your own file: tidegate new source NAME --from FILE"
        ),
        highlight=False,
    )
