"""The options that say how to read a sample file (`schema infer`, `new source`).

For a CSV file, what is left out is detected (DuckDB's sniff_csv); what is given wins."""

from __future__ import annotations

from typing import Annotated

import typer

SampleFormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv, jsonl, json or parquet. Default: from the suffix."),
]
DelimiterOpt = Annotated[
    str | None, typer.Option(help="CSV delimiter. Default: detected (DuckDB sniff_csv).")
]
QuoteOpt = Annotated[
    str | None,
    typer.Option(help="CSV quote char, or 'none'. Default: detected (DuckDB sniff_csv)."),
]
SkipRowsOpt = Annotated[
    int | None,
    typer.Option("--skip-rows", min=0, help="Preamble lines before the header. Default: detected."),
]
HeaderOpt = Annotated[
    bool | None,
    typer.Option(
        "--header/--no-header", help="Whether the first CSV row is a header. Default: detected."
    ),
]
EncodingOpt = Annotated[
    str | None, typer.Option(help="File encoding. Default: detected (UTF-8 unless it is not).")
]
