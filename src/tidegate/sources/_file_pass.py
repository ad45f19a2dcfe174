"""One sequential read of a local file: its bytes in blocks, hashed while they are read.

A :class:`FilePass` is what every streaming reader stands on. It records the file's
size and modification time when it opens it, hashes every byte it hands out (and the
rest of the file when a reader stops early), keeps the first bytes for a reject's
``head`` and the checks that need them, and at the end says whether the file changed
while it was read (:class:`FileChangedError`). The file is read once: hashing and parsing
share the same blocks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, NoReturn

from tidegate.batches import FileChangedError, FileReject, FileUnreadableError
from tidegate.sources._text import HEAD_BYTES, FileInfo

READ_SIZE = 1 << 20  # bytes per read() call, at most
KEPT_HEAD = 8192  # the first bytes kept: a reject's head, the NUL-byte and BOM checks
KEPT_TAIL = 16  # the last bytes kept: Parquet's end marker


class FilePass:
    """Reads ``path`` once from the start (use it as a context manager).

    ``blocks()`` yields the bytes in blocks of at most ``read_size``; calling it again
    goes on where the last call stopped. ``finish()`` reads and hashes what is left,
    closes the file and returns the sha256 of every byte, or raises FileChangedError when the
    file's size or modification time differ from when it was opened. A file that cannot
    be opened or read raises FileUnreadableError with ``content_sha256=None``, as before.
    """

    def __init__(self, source: str, path: Path, read_size: int = READ_SIZE) -> None:
        self.source = source
        self.path = path
        self.location = str(path)
        self.read_size = max(1, read_size)
        self.size = 0  # bytes read so far
        self.head = b""  # the first KEPT_HEAD bytes
        self.tail = b""  # the last KEPT_TAIL bytes read so far
        self._sha = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._opened: tuple[int, int] = (0, 0)
        self._done = False

    def __enter__(self) -> FilePass:
        try:
            self._file = open(self.path, "rb")  # closed by close(), from finish or __exit__
            stat = os.fstat(self._file.fileno())
        except OSError as exc:
            self.close()
            raise FileUnreadableError(self._cannot_read(exc)) from None
        self._opened = (stat.st_size, stat.st_mtime_ns)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def blocks(self) -> Iterator[bytes]:
        """The next blocks of the file, each hashed before it is handed out."""
        while self._file is not None and not self._done:
            try:
                block = self._file.read(self.read_size)
            except OSError as exc:
                self.close()
                raise FileUnreadableError(self._cannot_read(exc)) from None
            if not block:
                self._done = True
                return
            self._sha.update(block)
            self.size += len(block)
            if len(self.head) < KEPT_HEAD:
                self.head += block[: KEPT_HEAD - len(self.head)]
            if len(block) >= KEPT_TAIL:
                self.tail = block[-KEPT_TAIL:]
            else:
                self.tail = (self.tail + block)[-KEPT_TAIL:]
            yield block

    def drain(self) -> None:
        """Read (and hash) the rest of the file."""
        for _ in self.blocks():
            pass

    def finish(self) -> str:
        """Hash the rest, close, check that the file did not change; the sha256."""
        self.drain()
        self.close()
        self._check_unchanged()
        return self._sha.hexdigest()

    def unreadable(self, reason: str) -> NoReturn:
        """Raise FileUnreadableError for this file (after hashing all of it), or FileChangedError
        when the file changed meanwhile (a writer, not the file, is then to blame)."""
        digest = self.finish()
        raise FileUnreadableError(
            FileReject(
                source=self.source,
                location=self.location,
                content_sha256=digest,
                reason=reason,
                size_bytes=self.size,
                head=repr(self.head[:HEAD_BYTES]),
            )
        )

    def _check_unchanged(self) -> None:
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            why = f"it can no longer be read: {exc.strerror or exc}"
            raise FileChangedError(self.location, why) from None
        size, mtime_ns = self._opened
        if stat.st_size != size:
            raise FileChangedError(self.location, f"size {size} -> {stat.st_size} bytes")
        if self.size != size:
            raise FileChangedError(self.location, f"{self.size} bytes read, the file had {size}")
        if stat.st_mtime_ns != mtime_ns:
            raise FileChangedError(
                self.location, f"modification time {mtime_ns} -> {stat.st_mtime_ns} ns"
            )

    def _cannot_read(self, exc: OSError) -> FileReject:
        info = FileInfo(self.source, self.location, None)
        return info.reject(None, f"cannot read the file: {exc.strerror or exc}")
