"""FileSource: one file or a glob of files, each read into one RawBatch or FileReject."""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Iterator
from pathlib import Path

from tidegate.batches import FileReject, RawBatch
from tidegate.errors import SourceConfigError
from tidegate.sources._csv import CsvOptions, read_csv_bytes
from tidegate.sources._jsonl import read_json_bytes
from tidegate.sources._parquet import read_parquet_bytes
from tidegate.sources._text import FileInfo, check_encoding

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
    for tsv and a comma otherwise. Each file is read once; its batch key is the sha256
    of its bytes. Options are checked here; the glob is resolved on each ``read()``.
    """

    def __init__(
        self,
        name: str,
        path: str | Path,
        format: str | None = None,
        delimiter: str | None = None,
        quote: str = '"',
        encoding: str = "utf-8",
        has_header: bool = True,
        base_dir: str | Path | None = None,
    ) -> None:
        self.name = name
        self.path = str(path)
        self.format = None if format is None else _check_format(format)
        self.delimiter = delimiter
        self.quote = quote
        self.encoding = encoding
        self.has_header = has_header
        self.base_dir = None if base_dir is None else Path(base_dir)
        check_encoding(encoding)
        self._csv_options(self.format or "csv")  # validates delimiter, quote, has_header

    def __repr__(self) -> str:
        return f"FileSource(name={self.name!r}, path={self.path!r}, format={self.format!r})"

    def _pattern(self) -> Path:
        pattern = Path(self.path).expanduser()
        if self.base_dir is not None and not pattern.is_absolute():
            pattern = self.base_dir / pattern
        return pattern

    def _csv_options(self, fmt: str) -> CsvOptions:
        delimiter = self.delimiter or ("\t" if fmt == "tsv" else ",")
        return CsvOptions(delimiter, self.quote, self.encoding, self.has_header)

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
        return [(path, self._format_of(path)) for path in paths]

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

    def read(self) -> Iterator[RawBatch | FileReject]:
        """One RawBatch or FileReject per file, in path order."""
        for path, fmt in self.files():
            yield self._read_file(path, fmt)

    def _read_file(self, path: Path, fmt: str) -> RawBatch | FileReject:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return FileInfo(self.name, str(path), None).reject(
                None, f"cannot read the file: {exc.strerror or exc}"
            )
        info = FileInfo(self.name, str(path), hashlib.sha256(data).hexdigest())
        if fmt in ("csv", "tsv"):
            return read_csv_bytes(data, info, self._csv_options(fmt))
        if fmt in ("jsonl", "json"):
            return read_json_bytes(data, info, encoding=self.encoding, document=fmt == "json")
        return read_parquet_bytes(data, info)


def _static_prefix(pattern: Path) -> list[str]:
    """The leading path parts of a glob that hold no wildcard: the directory searched."""
    parts: list[str] = []
    for part in pattern.parts[:-1]:
        if glob.has_magic(part):
            break
        parts.append(part)
    return parts or ["."]
