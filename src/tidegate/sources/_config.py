"""Build a source from its declaration in a pipeline file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tidegate.errors import SourceConfigError
from tidegate.sources._base import Source
from tidegate.sources._csv_dialect import CSV_DIALECT_OPTIONS, dialect_from_config
from tidegate.sources._files import FileSource
from tidegate.sources._http_config import http_source_from_config
from tidegate.sources._landing import landing_source_from_config
from tidegate.sources._options import check_options
from tidegate.sources._sql import sql_source_from_config

_FILE_OPTIONS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "path": (str,),
    "format": (str,),
    "delimiter": (str,),
    "quote": (str, type(None)),
    "encoding": (str,),
    "has_header": (bool,),
    "chunk_size": (int, str),  # 100000, "100000 rows", "64MB" (see ChunkSize.parse)
    **CSV_DIALECT_OPTIONS,
}


def file_option_names() -> frozenset[str]:
    """The keys a ``kind: file`` source accepts in a pipeline file."""
    return frozenset(_FILE_OPTIONS)


def _file_source(
    name: str,
    config: Mapping[str, Any],
    base_dir: Path,
    expected_columns: list[str] | None = None,
) -> Source:
    check_options(name, "file", config, _FILE_OPTIONS)
    if "path" not in config:
        raise SourceConfigError(
            f"source {name!r}: `path` is missing; give a file or a glob, "
            "e.g. `path: sample_data/orders/*.csv`"
        )
    options = dialect_from_config({key: value for key, value in config.items() if key != "kind"})
    return FileSource(name, base_dir=base_dir, expected_columns=expected_columns, **options)


_KINDS: dict[str, Callable[[str, Mapping[str, Any], Path], Source]] = {"file": _file_source}

_KINDS["http"] = http_source_from_config
_KINDS["landing"] = landing_source_from_config
_KINDS["sql"] = sql_source_from_config


def cursor_column(config: Mapping[str, Any]) -> str | None:
    """The cursor column of an incremental source (``kind: sql`` with ``cursor:``), or None.

    Its last committed value is what the caller hands to :func:`source_from_config` as
    ``watermark``.
    """
    if not isinstance(config, Mapping) or config.get("kind") != "sql":
        return None
    column = config.get("cursor")
    return column if isinstance(column, str) else None


def source_from_config(
    name: str,
    config: Mapping[str, Any],
    base_dir: Path,
    *,
    watermark: str | None = None,
    expected_columns: list[str] | None = None,
) -> Source:
    """The source declared as ``config`` in a pipeline file; relative paths from ``base_dir``.

    ``watermark`` is, for an incremental source (``kind: sql`` with a cursor, see
    :func:`cursor_column`), the last committed cursor value: it reads the rows after it.
    None reads every window from the first row (`tidegate run --reprocess` passes None).
    Other kinds ignore it. A source never reads the store: its caller does.
    ``expected_columns`` is, for a file or landing source, the names the contract's
    columns are read by (see ``tidegate.normalize._headers.row_names``): a CSV file whose
    header is malformed is read by them (the header quarantined once). Other kinds
    ignore it.

    Example: ``{"kind": "file", "path": "sample_data/orders/*.csv", "format": "csv"}``.
    Raises SourceConfigError naming the bad key or value and what would be valid.
    """
    if not isinstance(config, Mapping):
        raise SourceConfigError(
            f"source {name!r}: expected a mapping of options, got {type(config).__name__} "
            f"{config!r}; e.g. {{kind: file, path: data/*.csv}}"
        )
    kind = config.get("kind")
    if kind not in _KINDS:
        shown = "missing" if kind is None else repr(kind)
        raise SourceConfigError(
            f"source {name!r}: kind is {shown}; valid kinds: {', '.join(_KINDS)} "
            "(set `kind:` in the pipeline file)"
        )
    if kind == "sql":
        return sql_source_from_config(name, config, base_dir, watermark=watermark)
    if kind == "file":
        return _file_source(name, config, base_dir, expected_columns)
    if kind == "landing":
        return landing_source_from_config(name, config, base_dir, expected_columns)
    return _KINDS[kind](name, config, base_dir)
