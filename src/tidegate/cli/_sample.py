"""Read a sample data file whole and guess its contract (`schema infer`, `new source`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate._safe_text import plain
from tidegate.cli._common import err_console, fail
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    import polars as pl

    from tidegate.contracts._infer import Inference
    from tidegate.sources import Source
    from tidegate.sources._sniff import Dialect, DialectGiven

FORMATS = ("csv", "jsonl", "json", "parquet")


def source_name(file: Path) -> str:
    """A source name from a file name: ``Invoices 2024.csv`` -> ``invoices_2024``."""
    return re.sub(r"[^a-z0-9_]+", "_", file.stem.lower()).strip("_") or "source"


@dataclass(frozen=True)
class SampleGuess:
    """What was read from a sample file: the contract guess, the file's format (``csv``,
    ...), a CSV file's dialect, and notes on how it was read."""

    file: Path
    guess: Inference
    fmt: str
    dialect: Dialect | None
    notes: tuple[str, ...] = ()


def infer_from_file(file: Path, name: str, *, fmt: str | None, given: DialectGiven) -> SampleGuess:
    """The guess from every row of ``file`` and, for a CSV file, its dialect (what
    ``given`` says, else what DuckDB's sniffer found); a file that cannot be read is one
    error line."""
    import yaml

    from tidegate.contracts import contract_from_dict
    from tidegate.contracts._infer import infer
    from tidegate.sources import FileChangedError, FileSource
    from tidegate.sources._sniff import detect_dialect

    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        encoding = given.encoding or "utf-8"
        found_fmt = FileSource(name, str(file), format=fmt, encoding=encoding).files()[0][1]
        dialect = None
        if found_fmt == "csv":
            dialect = detect_dialect(file, given)
            frame, skipped, notes = _read_csv_sample(file, name, dialect)
        else:
            reader = FileSource(
                name, str(file), format=found_fmt, delimiter=given.delimiter, encoding=encoding
            )
            frame, skipped = _read_whole(reader, file, found_fmt)
            notes = []
        guess = infer(frame, name, skipped=skipped, origin=file.name)
        contract_from_dict(yaml.safe_load(guess.yaml), f"<inferred from {file}>")  # loads
        return SampleGuess(file, guess, found_fmt, dialect, tuple(notes))
    except TidegateError as exc:
        raise fail(exc) from exc
    except FileChangedError as exc:
        raise fail(f"{exc}; run the command again once the file is complete") from exc


def _read_whole(reader: Source, file: Path, fmt: str) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Every row of the one file ``reader`` reads, and the (record, reason) of those it
    could not use."""
    from tidegate.sources import FileReject, FileSource

    assert isinstance(reader, FileSource)
    item = reader.read_file(file, fmt)  # the whole file: every row informs the guess
    if isinstance(item, FileReject):
        hint = "check --format, --delimiter, --quote, --skip-rows and --encoding"
        raise fail(f"cannot read {file}: {item.reason}; {hint}")
    skipped = [(r.record, r.reason) for r in item.rejects]
    return item.frame.drop("_tidegate_record"), skipped


def _read_csv_sample(
    file: Path, name: str, dialect: Dialect
) -> tuple[pl.DataFrame, list[tuple[int, str]], list[str]]:
    """The CSV sample read in ``dialect``: by the tidegate reader (the one `tidegate run`
    uses) when it accepts the options, else by DuckDB's read_csv, every column a string."""
    from tidegate.errors import SourceConfigError
    from tidegate.sources import source_from_config
    from tidegate.sources._config import file_option_names
    from tidegate.sources._sniff import read_csv_with_duckdb

    options = dialect.to_options(file_option_names())
    config = {"kind": "file", "path": str(file.resolve()), "format": "csv", **options}
    try:
        reader = source_from_config(name, config, file.resolve().parent)
    except SourceConfigError as refused:
        frame, notes = read_csv_with_duckdb(file, dialect)
        notes.insert(
            0,
            f"read with DuckDB's read_csv: this tidegate's CSV reader refuses the "
            f"detected options ({refused}); `tidegate run` will too until it reads them",
        )
        return frame, [], notes
    frame, skipped = _read_whole(reader, file, "csv")
    return frame, skipped, []


def print_dialect(file: Path, dialect: Dialect, notes: tuple[str, ...]) -> None:
    """The detected CSV dialect and why, as a table on stderr."""
    from rich.table import Table

    from tidegate.sources._config import file_option_names

    options = dialect.to_options(file_option_names())
    if dialect.fallback or not options:
        err_console.print(
            plain(f"CSV dialect of {file}: {dialect.summary(file_option_names())}"),
            highlight=False,
        )
    else:
        table = Table(title=plain(f"CSV dialect of {file.name} (pipeline-file options)"))
        for heading in ("option", "value", "why"):
            table.add_column(heading, overflow="fold")
        for key, value in options.items():
            table.add_row(plain(key), plain(_yaml_value(value)), plain(dialect.reason(key)))
        err_console.print(table)
    for note in notes:
        err_console.print(plain(f"- {note}"), highlight=False)


def _yaml_value(value: object) -> str:
    import json

    return json.dumps(value)  # a JSON scalar is a YAML scalar: "\t", false, 2


def print_report(sample: SampleGuess) -> None:
    """What was guessed and why, as tables on stderr (stdout stays clean for YAML): the
    CSV dialect, then the contract."""
    from rich.table import Table

    if sample.dialect is not None:
        print_dialect(sample.file, sample.dialect, sample.notes)
    inf = sample.guess
    table = Table(title=plain(f"inferred contract for {inf.source} ({inf.rows} rows)"))
    for heading in ("column", "type", "why", "normalization", "checks"):
        table.add_column(heading, overflow="fold")
    for c in inf.columns:
        checks = [f"{k} {v}" for check in c.checks for k, v in check.items()]
        if c.values and not c.nulls:
            checks.append("not null")
        cells = (c.name, c.type, c.why, ", ".join(c.normalization), "; ".join(checks))
        table.add_row(*(plain(cell) for cell in cells))
    err_console.print(table)
    for note in inf.notes:
        err_console.print(plain(f"- {note}"), highlight=False)


def write_text_file(path: Path, text: str, hint: str) -> None:
    """Write ``text`` to ``path``, making its folder; an unwritable path is one error line
    ending in ``hint`` (the next step)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}; {hint}") from exc


def refuse_existing(paths: list[Path]) -> None:
    """One error line naming every path that exists already (nothing is written)."""
    taken = [str(p) for p in paths if p.exists()]
    if taken:
        raise fail(f"will not overwrite {', '.join(taken)}; pass --force to overwrite")
