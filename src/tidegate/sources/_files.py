"""FileSource: one file or a glob of files, each read as a stream of chunks."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tidegate.batches import DEFAULT_CHUNK_SIZE, ChunkSize, FileReject, RawBatch
from tidegate.batches._read_options import FILE_READ_OPTIONS, LATER_READ_OPTIONS
from tidegate.errors import ConfigError, SourceConfigError
from tidegate.sources._csv import CsvOptions, csv_options
from tidegate.sources._file_batch import LocalFileBatch
from tidegate.sources._text import check_encoding

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise SourceConfigError(
            f"format {fmt!r} is not known; valid formats: {', '.join(FORMATS)} "
            "(fix `format:` in the pipeline file, or leave it out to use the file extension)"
        )
    return fmt


class FileSource:
    """Files matching ``path`` (a file or a glob, relative to ``base_dir``), sorted by path.

    ``format`` defaults to the file extension (.csv/.txt -> csv, .tsv -> tsv, .jsonl/.ndjson
    -> jsonl, .json -> json, .parquet/.pq -> parquet). ``delimiter`` defaults to a tab
    for tsv and a comma otherwise. ``skip_rows``, ``header_rows``, ``escape``, ``columns``
    and ``comment`` describe the CSV dialect (see ``_csv_dialect.py``); ``quote`` None or
    "none" means no quoting. ``expected_columns`` (the contract's column names, handed
    over by the caller, not a pipeline-file key) lets a malformed CSV header be read by
    them (see ``_csv_header.py``). ``read()`` yields one :class:`LocalFileBatch` per file:
    the file read in chunks of ``chunk_size`` (rows, or bytes of input: ``100000``,
    ``"100000 rows"``, ``"64MB"``; None: 32 MiB), in bounded memory; its batch key is
    the sha256 of its bytes, computed while the chunks are read. Options are checked
    here; the glob is resolved on each ``read()``.
    """

    def __init__(
        self,
        name: str,
        path: str | Path,
        format: str | None = None,
        delimiter: str | None = None,
        quote: str | None = '"',
        encoding: str = "utf-8",
        has_header: bool = True,
        base_dir: str | Path | None = None,
        chunk_size: ChunkSize | int | str | None = None,
        skip_rows: int = 0,
        header_rows: int | None = None,
        escape: str | None = None,
        columns: int | list[str] | tuple[str, ...] | None = None,
        comment: str | None = None,
        expected_columns: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        self.name = name
        self.path = str(path)
        self.format = None if format is None else _check_format(format)
        self.delimiter = delimiter
        self.quote = quote
        self.encoding = encoding
        self.has_header = has_header
        self.skip_rows = skip_rows
        self.header_rows = header_rows
        self.escape = escape
        self.columns = list(columns) if isinstance(columns, list | tuple) else columns
        self.comment = comment
        self.expected_columns = None if expected_columns is None else tuple(expected_columns)
        self.base_dir = None if base_dir is None else Path(base_dir)
        # set for a pipeline file's source: the folders its files must resolve into
        self.confine_to: tuple[Path, ...] | None = None
        check_encoding(encoding)
        self._csv_options(self.format or "csv")  # validates the CSV dialect
        self.chunk_size = _chunk_size(name, chunk_size)

    def __repr__(self) -> str:
        return f"FileSource(name={self.name!r}, path={self.path!r}, format={self.format!r})"

    def read_options(self) -> dict[str, Any]:
        """The options that change what this source's bytes read as (not its path or
        chunk size): recorded with each committed batch, so that a skip of the same
        content can say they changed since."""
        options = {name: getattr(self, name) for name in FILE_READ_OPTIONS}
        return {
            name: value
            for name, value in options.items()
            if name not in LATER_READ_OPTIONS or value != LATER_READ_OPTIONS[name]
        }

    def _pattern(self) -> Path:
        pattern = Path(self.path).expanduser()
        if self.base_dir is not None and not pattern.is_absolute():
            pattern = self.base_dir / pattern
        return pattern

    def _csv_options(self, fmt: str) -> CsvOptions:
        return csv_options(
            fmt,
            delimiter=self.delimiter,
            quote=self.quote,
            encoding=self.encoding,
            has_header=self.has_header,
            **self._dialect(),
        )

    def _dialect(self) -> dict[str, Any]:
        """The CSV dialect options beyond delimiter, quote, encoding and has_header."""
        return {
            "skip_rows": self.skip_rows,
            "header_rows": self.header_rows,
            "escape": self.escape,
            "columns": self.columns,
            "comment": self.comment,
            "expected_columns": self.expected_columns,
        }

    def files(self) -> list[tuple[Path, str]]:
        """The files to read and the format of each, or SourceConfigError if none match."""
        pattern = self._pattern()
        if glob.has_magic(str(Path(self.path).expanduser())):  # base_dir is never a glob
            base = self.base_dir
            if base is not None and not Path(self.path).expanduser().is_absolute():
                matches = glob.glob(str(Path(self.path)), root_dir=base, recursive=True)
                found = sorted(base / p for p in matches)
            else:
                found = sorted(Path(p) for p in glob.glob(str(pattern), recursive=True))
            paths = [p for p in found if p.is_file()]
            if not paths:
                searched = Path(*_static_prefix(Path(self.path).expanduser()))
                if base is not None and not searched.is_absolute():
                    searched = base / searched
                raise SourceConfigError(
                    f"source {self.name!r}: glob {self.path!r} matches no file "
                    f"(searched {str(searched)!r} for {str(pattern)!r}); check the path "
                    "in the pipeline file (relative paths start at the pipeline's base dir)"
                )
        elif pattern.is_file():
            paths = [pattern]
        else:
            what = "is a directory" if pattern.is_dir() else "does not exist"
            hint = f" (to read its files use a glob like '{self.path}/*.csv')"
            raise SourceConfigError(
                f"source {self.name!r}: path {str(pattern)!r} {what}; give a file or a glob"
                + (hint if pattern.is_dir() else "")
            )
        self.check_confined(paths)
        return [(path, self._format_of(path)) for path in paths]

    def check_confined(self, paths: list[Path]) -> None:
        """Refuse a matched file that resolves outside :attr:`confine_to` (a symlink out
        of the project), naming it; nothing is read."""
        if self.confine_to is None:
            return
        roots = self.confine_to
        for path in paths:
            resolved = path.resolve()
            if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
                raise SourceConfigError(
                    f"source {self.name!r}: {str(path)!r} resolves to {str(resolved)!r}, "
                    "outside the project folder and the pipeline's `allowed_paths:`; nothing "
                    "was read. Remove the link, or allow its folder with "
                    f"`allowed_paths: [{resolved.parent}]` in the pipeline file"
                )

    def _format_of(self, path: Path) -> str:
        if self.format is not None:
            return self.format
        fmt = EXTENSIONS.get(path.suffix.lower())
        if fmt is None:
            raise SourceConfigError(
                f"source {self.name!r}: cannot tell the format of {str(path)!r} from its "
                f"extension {path.suffix!r}; known extensions: {', '.join(EXTENSIONS)}; "
                f"declare `format:` ({', '.join(FORMATS)}) or narrow the glob"
            )
        return fmt

    def read(self) -> Iterator[LocalFileBatch]:
        """One LocalFileBatch per file, in path order (nothing is read until its
        ``chunks()``, ``hash()`` or ``collect()`` is called)."""
        for path, fmt in self.files():
            yield self.batch(path, fmt)

    def batch(self, path: Path, fmt: str) -> LocalFileBatch:
        """The file at ``path`` (of format ``fmt``) with this source's options."""
        return LocalFileBatch(
            self.name,
            path,
            fmt,
            delimiter=self.delimiter,
            quote=self.quote,
            encoding=self.encoding,
            has_header=self.has_header,
            chunk_size=self.chunk_size,
            **self._dialect(),
        )

    def read_file(self, path: Path, fmt: str) -> RawBatch | FileReject:
        """The whole file at ``path`` in one RawBatch, or its FileReject."""
        return self.batch(path, fmt).collect()


def _chunk_size(name: str, value: ChunkSize | int | str | None) -> ChunkSize:
    if value is None:
        return DEFAULT_CHUNK_SIZE
    try:
        return ChunkSize.parse(value)
    except ConfigError as exc:
        raise SourceConfigError(
            f"source {name!r}: {exc} (fix `chunk_size:` in the pipeline file)"
        ) from None


def _static_prefix(pattern: Path) -> list[str]:
    """The leading path parts of a glob that hold no wildcard: the directory searched."""
    parts: list[str] = []
    for part in pattern.parts[:-1]:
        if glob.has_magic(part):
            break
        parts.append(part)
    return parts or ["."]
