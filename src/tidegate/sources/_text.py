"""Helpers shared by the text readers: decoding bytes, naming columns, describing a file."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass

from tidegate.batches import RECORD_COLUMN, FileReject
from tidegate.errors import SourceConfigError

HEAD_BYTES = 200
_BOM = "\ufeff"


@dataclass(frozen=True)
class FileInfo:
    """Where some bytes came from: what every batch and file reject carries."""

    source: str
    location: str
    content_sha256: str | None

    def reject(self, data: bytes | None, reason: str) -> FileReject:
        return FileReject(
            source=self.source,
            location=self.location,
            content_sha256=self.content_sha256,
            reason=reason,
            size_bytes=None if data is None else len(data),
            head="" if data is None else repr(data[:HEAD_BYTES]),
        )


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name, or raise SourceConfigError for an unknown one."""
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise SourceConfigError(
            f"encoding {encoding!r} is not a known text encoding; use a Python codec name "
            "such as 'utf-8', 'latin-1', 'cp1252' or 'utf-16', then run the pipeline again"
        ) from None


def undecodable(encoding: str, offset: int, line: int, why: str) -> str:
    """The reason a file is not text in ``encoding``: where its first bad byte is (the
    bytes themselves are not shown: they may be personal data)."""
    return (
        f"bytes are not valid {encoding}: at byte offset {offset} (line {line}, {why}; "
        "the bytes are not shown); if the file uses another encoding, declare it in the "
        "pipeline file, e.g. `encoding: latin-1` or `encoding: cp1252`"
    )


def decode_text(data: bytes, encoding: str, info: FileInfo, what: str) -> str | FileReject:
    """Decode ``data`` in the declared encoding, or describe why the file cannot be read.

    A leading byte order mark is dropped. NUL characters mean binary content, not text.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return info.reject(
                data,
                f"bytes are not valid {encoding}: the file starts with a UTF-16 byte order "
                "mark; declare `encoding: utf-16` in the pipeline file",
            )
        if b"\x00" in data[:8192]:
            return info.reject(data, f"not a text/{what} file: binary content (NUL bytes)")
        line = data.count(b"\n", 0, exc.start) + 1
        return info.reject(data, undecodable(encoding, exc.start, line, exc.reason))
    if "\x00" in text:
        offset = text.index("\x00")
        return info.reject(
            data, f"not a text/{what} file: binary content (NUL character at position {offset})"
        )
    if text.startswith(_BOM):
        text = text[1:]
    return text


def unique_names(raw_names: Iterable[str]) -> list[str]:
    """Column names as in the header: duplicates get ``_2``, ``_3``; empty ones ``column_N``.

    The lineage column name is reserved, so a header naming it is treated as a duplicate.
    """
    taken: set[str] = {RECORD_COLUMN}
    names: list[str] = []
    for position, raw in enumerate(raw_names, start=1):
        base = raw if raw != "" else f"column_{position}"
        name, suffix = base, 1
        while name in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        taken.add(name)
        names.append(name)
    return names
