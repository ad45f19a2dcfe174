"""Write a pipeline file for a sample, or update the CSV options of one (`new source`,
`schema infer --pipeline`), with the dialect DuckDB's sniffer detected."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.cli._common import fail

if TYPE_CHECKING:
    from tidegate.sources._sniff import Dialect

# every key that says how a CSV file is split: an update replaces all of them
DIALECT_KEYS = (
    "delimiter",
    "quote",
    "escape",
    "skip_rows",
    "header_rows",
    "has_header",
    "columns",
    "encoding",
)


def _scalar(value: Any) -> str:
    return json.dumps(value)  # a JSON scalar is a YAML scalar, whatever the string holds


def dialect_lines(dialect: Dialect, indent: str = "  ") -> list[str]:
    """The commented option lines of a ``source:`` mapping for a CSV file."""
    from tidegate.sources._config import file_option_names

    known = file_option_names()
    options = dialect.to_options(known)
    lines = [
        f"{indent}# detected by tidegate schema infer (DuckDB sniff_csv): {dialect.summary(known)}"
    ]
    for key, value in options.items():
        why = dialect.reason(key)
        lines.append(f"{indent}{key}: {_scalar(value)}" + (f"   # {why}" if why else ""))
    return lines


def pipeline_yaml(
    name: str,
    path: str,
    fmt: str,
    dialect: Dialect | None,
    contract: str,
    allowed: Path | None = None,
) -> str:
    """A pipeline file reading the file (or glob) at ``path`` into ``contract``;
    ``allowed``: a folder outside the project it reads from (``allowed_paths:``)."""
    from tidegate.cli._init_files import PIPELINE_MODELINE

    lines = [
        f"# The pipeline for {name!r}, written by tidegate.",
        f"name: {name}",
    ]
    if allowed is not None:
        lines.append(
            f"allowed_paths: [{_scalar(str(allowed))}]   # outside the project: read from here"
        )
    lines += [
        "source:",
        "  kind: file",
        f"  path: {_scalar(path)}   # one file; a glob (folder/*.{fmt}) reads every match",
        f"  format: {fmt}",
    ]
    if dialect is not None:
        lines += dialect_lines(dialect)
    lines.append(f"contract: {_scalar(contract)}")
    return PIPELINE_MODELINE + "\n".join(lines) + "\n"


def updated_pipeline(path: Path, text: str, dialect: Dialect) -> str:
    """``text`` (the pipeline file at ``path``) with its ``source:`` CSV options replaced
    by ``dialect``'s; every other line, comments included, is kept.

    A file whose ``source:`` is not a block mapping of ``kind: file`` is one error line
    naming the options to set by hand."""
    import yaml

    from tidegate.sources._config import file_option_names

    wanted = dialect.to_options(file_option_names())
    by_hand = ", ".join(f"{k}: {_scalar(v)}" for k, v in wanted.items()) or "none"
    try:
        before = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise fail(f"cannot update {path}: it is not valid YAML ({exc}); fix it first") from exc
    source = before.get("source") if isinstance(before, dict) else None
    if not isinstance(source, dict) or source.get("kind") != "file":
        raise fail(
            f"cannot update {path}: its source: is not `kind: file`; "
            f"pass another --pipeline, or set the CSV options by hand ({by_hand})"
        )
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"source:\s*(#.*)?$", line)), None)
    end, indent = len(lines), "  "
    if start is not None:
        for i in range(start + 1, len(lines)):
            line = lines[i]
            if line.strip() and not line.startswith((" ", "\t")):
                end = i
                break
        body = [line for line in lines[start + 1 : end] if line.strip()]
        indent = re.match(r"\s*", body[0]).group(0) if body else indent  # type: ignore[union-attr]
        keep = [
            line
            for line in lines[start + 1 : end]
            if not re.match(rf"{indent}({'|'.join(DIALECT_KEYS)})\s*:", line)
            and "# detected by tidegate schema infer" not in line
        ]
        blank: list[str] = []
        while keep and not keep[-1].strip():
            blank.append(keep.pop())  # the blank lines before the next key stay after it
        lines = lines[: start + 1] + keep + dialect_lines(dialect, indent) + blank + lines[end:]
    after = "\n".join(lines) + "\n"
    expected = {k: v for k, v in source.items() if k not in DIALECT_KEYS} | wanted
    try:
        parsed = yaml.safe_load(after)
    except yaml.YAMLError:
        parsed = None
    if start is None or not isinstance(parsed, dict) or parsed.get("source") != expected:
        raise fail(
            f"cannot update the source: of {path} in place (write it as a block mapping); "
            f"set the CSV options by hand: {by_hand}"
        )
    return after
