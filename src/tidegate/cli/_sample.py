"""Read a sample data file whole and guess its contract (`schema infer`, `new source`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate._safe_text import plain
from tidegate.cli._common import err_console, fail
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.contracts._infer import Inference

FORMATS = ("csv", "jsonl", "json", "parquet")


def source_name(file: Path) -> str:
    """A source name from a file name: ``Invoices 2024.csv`` -> ``invoices_2024``."""
    return re.sub(r"[^a-z0-9_]+", "_", file.stem.lower()).strip("_") or "source"


def infer_from_file(
    file: Path, name: str, *, fmt: str | None, delimiter: str | None, encoding: str
) -> tuple[Inference, str]:
    """The guess from every row of ``file``, and the file's format (``csv``, ...);
    a file that cannot be read is one error line."""
    import yaml

    from tidegate.contracts import contract_from_dict
    from tidegate.contracts._infer import infer
    from tidegate.sources import FileChangedError, FileReject, FileSource

    if fmt is not None and fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        reader = FileSource(name, str(file), format=fmt, delimiter=delimiter, encoding=encoding)
        ((path, found_fmt),) = reader.files()
        item = reader.read_file(path, found_fmt)  # the whole file: every row informs the guess
        if isinstance(item, FileReject):
            hint = "check --format, --delimiter and --encoding"
            raise fail(f"cannot read {file}: {item.reason}; {hint}")
        skipped = [(r.record, r.reason) for r in item.rejects]
        frame = item.frame.drop("_tidegate_record")
        guess = infer(frame, name, skipped=skipped, origin=file.name)
        contract_from_dict(yaml.safe_load(guess.yaml), f"<inferred from {file}>")  # loads
        return guess, found_fmt
    except TidegateError as exc:
        raise fail(exc) from exc
    except FileChangedError as exc:
        raise fail(f"{exc}; run the command again once the file is complete") from exc


def print_report(inf: Inference) -> None:
    """What was guessed and why, as a table on stderr (stdout stays clean for YAML); the
    column names, values and notes come from the file, so they are plain text."""
    from rich.table import Table

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
