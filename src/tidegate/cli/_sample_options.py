"""The options that say how to read a sample file (`schema infer`, `new source`)."""

from __future__ import annotations

from typing import Annotated

import typer

SampleFormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv, jsonl, json or parquet. Default: from the suffix."),
]
DelimiterOpt = Annotated[str, typer.Option(help="CSV delimiter.")]
EncodingOpt = Annotated[str, typer.Option(help="File encoding.")]
