"""LandingFolderSource: files that land in a folder, each processed once, never half-written.

Every file matching ``pattern`` is read like :class:`FileSource` reads it (same readers,
one :class:`LocalFileBatch` per file, read in chunks, batch key = sha256 of its bytes),
so a file whose content was already committed is skipped by the store. A file that may
still be written is left for a later run: a name with a temp suffix (``.part``,
``.tmp``, ``.crdownload``, ...) or a leading dot, and a file modified less than
``settle_seconds`` ago are not yielded (they are listed in ``skipped``); a file whose
size or mtime changes while its chunks are read raises :class:`FileChangedError` at the end
of the pass, and the engine leaves it for a later run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tidegate.batches import ChunkSize
from tidegate.errors import SourceConfigError
from tidegate.sources._csv_dialect import CSV_DIALECT_OPTIONS, dialect_from_config
from tidegate.sources._file_batch import LocalFileBatch
from tidegate.sources._files import FileSource
from tidegate.sources._options import check_options, positive

logger = logging.getLogger("tidegate.sources.landing")

TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".filepart")


class LandingFolderSource:
    """Settled files in ``folder`` matching ``pattern`` (a glob relative to the folder).

    ``format``, ``delimiter``, ``quote``, ``encoding``, ``has_header``, ``chunk_size`` and
    the CSV dialect options (``dialect``: ``skip_rows``, ``header_rows``, ``escape``,
    ``columns``, ``comment``, ``expected_columns``) mean what they mean for
    :class:`FileSource`. ``skipped`` lists, after a ``read()``,
    the files left for a later run and why (before reading them).
    """

    def __init__(
        self,
        name: str,
        folder: str | Path,
        pattern: str = "*.csv",
        settle_seconds: float = 2.0,
        *,
        format: str | None = None,
        delimiter: str | None = None,
        quote: str | None = '"',
        encoding: str = "utf-8",
        has_header: bool = True,
        chunk_size: ChunkSize | int | str | None = None,
        base_dir: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        **dialect: Any,
    ) -> None:
        self.name = name
        folder_path = Path(folder).expanduser()
        if base_dir is not None and not folder_path.is_absolute():
            folder_path = Path(base_dir) / folder_path
        self.folder = folder_path
        self.pattern = pattern
        self.settle_seconds = positive(name, "settle_seconds", settle_seconds, allow_zero=True)
        self.clock = clock
        self.skipped: list[tuple[Path, str]] = []
        # the file reader: same formats, options and checks as FileSource
        self._files = FileSource(
            name,
            self.folder / pattern,
            format=format,
            delimiter=delimiter,
            quote=quote,
            encoding=encoding,
            has_header=has_header,
            chunk_size=chunk_size,
            **dialect,
        )
        self.chunk_size = self._files.chunk_size

    def __repr__(self) -> str:
        return (
            f"LandingFolderSource(name={self.name!r}, folder={str(self.folder)!r}, "
            f"pattern={self.pattern!r}, settle_seconds={self.settle_seconds:g})"
        )

    def candidates(self) -> list[Path]:
        """Files matching the pattern, sorted by path; SourceConfigError if no folder."""
        if not self.folder.is_dir():
            what = "is a file" if self.folder.exists() else "does not exist"
            raise SourceConfigError(
                f"source {self.name!r}: landing folder {str(self.folder)!r} {what}; create it "
                "or fix `folder:` in the pipeline file (relative to the project root)"
            )
        found = sorted(path for path in self.folder.glob(self.pattern) if path.is_file())
        self._files.check_confined(found)
        return found

    @property
    def confine_to(self) -> tuple[Path, ...] | None:
        """The folders its files must resolve into (see :class:`FileSource`)."""
        return self._files.confine_to

    @confine_to.setter
    def confine_to(self, roots: tuple[Path, ...] | None) -> None:
        self._files.confine_to = roots

    def read(self) -> Iterator[LocalFileBatch]:
        """One LocalFileBatch per settled file, in path order (FileChangedError from its
        ``chunks()`` if it changes while it is read)."""
        self.skipped = []
        for path in self.candidates():
            why = self._unsettled(path)
            if why is None:
                yield self._files.batch(path, self._files._format_of(path))
                continue
            self.skipped.append((path, why))
            logger.info("source %s: %s left for a later run: %s", self.name, path, why)

    def _unsettled(self, path: Path) -> str | None:
        name = path.name
        if name.startswith("."):
            return "hidden file (leading dot): a writer's temp file"
        if name.lower().endswith(TEMP_SUFFIXES):
            return f"temp suffix {path.suffix!r}: still being written"
        try:
            stat = path.stat()
        except OSError as exc:  # removed or renamed since it was listed
            return f"cannot stat: {exc.strerror or exc}"
        age = self.clock() - stat.st_mtime
        if age < self.settle_seconds:
            return (
                f"modified {max(age, 0.0):.1f}s ago, less than settle_seconds="
                f"{self.settle_seconds:g}: may still be written"
            )
        return None


LANDING_OPTIONS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "folder": (str,),
    "pattern": (str,),
    "settle_seconds": (int, float),
    "format": (str,),
    "delimiter": (str,),
    "quote": (str, type(None)),
    "encoding": (str,),
    "has_header": (bool,),
    "chunk_size": (int, str),
    **CSV_DIALECT_OPTIONS,
}


def landing_source_from_config(
    name: str,
    config: Mapping[str, Any],
    base_dir: Path,
    expected_columns: list[str] | None = None,
) -> LandingFolderSource:
    """``kind: landing``: ``folder`` (required), ``pattern``, ``settle_seconds``, reader options."""
    check_options(name, "landing", config, LANDING_OPTIONS)
    if "folder" not in config:
        raise SourceConfigError(
            f"source {name!r}: `folder` is missing; e.g. `folder: landing/orders` with "
            "`pattern: '*.csv'`"
        )
    options = {key: value for key, value in config.items() if key not in ("kind", "folder")}
    options = dialect_from_config(options)
    return LandingFolderSource(
        name, config["folder"], base_dir=base_dir, expected_columns=expected_columns, **options
    )
