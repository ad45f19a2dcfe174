"""A file pass decoded as text, piece by piece, and cut into blocks of whole lines.

:class:`TextPass` decodes a :class:`FilePass` with an incremental decoder, so that a
block boundary in the middle of a character is fine, and refuses the file exactly as
:func:`tidegate.sources._text.decode_text` refuses the whole bytes: the same reasons,
with byte offsets and line numbers counted from the start of the file. A byte order
mark is dropped at the start of the file only. :func:`line_blocks` joins the decoded
pieces into blocks that end at a line end, which is what the CSV and JSON Lines
readers parse one at a time.
"""

from __future__ import annotations

import codecs
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn

from tidegate.sources._bytes import count_byte
from tidegate.sources._file_pass import KEPT_HEAD, FilePass
from tidegate.sources._text import undecodable

_BOM = "\ufeff"
_KEPT = 16  # bytes of the previous block kept: a decoder buffers fewer than that


class _EndianDecoder(codecs.BufferedIncrementalDecoder):
    """``utf-16`` / ``utf-32`` as ``bytes.decode`` reads them: the byte order from a
    BOM, else the machine's (the codecs' own incremental decoders refuse a stream
    without a BOM, which ``bytes.decode`` accepts)."""

    def __init__(self, decode: Callable[..., tuple[str, int, int]], errors: str = "strict"):
        super().__init__(errors)
        self._decode = decode
        self._order = 0  # 0: not known yet; -1: little-endian; 1: big-endian

    def _buffer_decode(self, input: bytes, errors: str, final: bool) -> tuple[str, int]:  # type: ignore[override]
        text, consumed, order = self._decode(input, errors, self._order, final)
        if self._order == 0 and (order != 0 or consumed):
            self._order = order or (-1 if sys.byteorder == "little" else 1)
        return text, consumed


def incremental_decoder(encoding: str) -> codecs.IncrementalDecoder:
    """A strict incremental decoder that reads what ``bytes.decode(encoding)`` reads."""
    name = codecs.lookup(encoding).name
    if name == "utf-16":
        return _EndianDecoder(codecs.utf_16_ex_decode)
    if name == "utf-32":
        return _EndianDecoder(codecs.utf_32_ex_decode)
    return codecs.getincrementaldecoder(name)()


def chars_per_byte(encoding: str) -> float:
    """About how many characters one byte of ``encoding`` makes (to size text blocks)."""
    name = codecs.lookup(encoding).name
    return 0.5 if name.startswith("utf-16") else 0.25 if name.startswith("utf-32") else 1.0


class TextPass:
    """The decoded text of one file pass; ``what`` ("CSV", "JSON") names the format in
    the reasons. ``pieces()`` yields the text (without a leading BOM) and raises
    FileUnreadableError, after hashing the whole file, when the bytes are not text."""

    def __init__(self, file: FilePass, encoding: str, what: str) -> None:
        self.file = file
        self.encoding = encoding
        self.what = what

    def fail(self, reason: str) -> NoReturn:
        """Refuse the file with ``reason`` (FileUnreadableError; FileChangedError if it changed)."""
        self.file.unreadable(reason)

    def pieces(self) -> Iterator[str]:
        decoder = incremental_decoder(self.encoding)
        fed = 0  # bytes given to the decoder
        newlines = 0  # b"\n" in the bytes before the current block
        kept = b""  # the last bytes before the current block
        chars = 0  # characters decoded, a leading BOM included (as decode_text counts)
        nul_at: int | None = None
        blocks = self.file.blocks()
        final = False
        while not final:
            block = next(blocks, None)
            if block is None:
                block, final = b"", True
            fed += len(block)
            try:
                text = decoder.decode(block, final)
            except UnicodeDecodeError as exc:
                self._not_decodable(exc, fed, kept, block, newlines)
            except UnicodeError as exc:  # a stateful codec's own complaint (iso2022)
                where = fed - len(block)
                self.fail(
                    f"bytes are not valid {self.encoding}: {exc} (in the block at byte "
                    f"offset {where}); if the file uses another encoding, declare it in "
                    "the pipeline file"
                )
            newlines += count_byte(block, 10)  # b"\n"
            kept = (kept + block[-_KEPT:])[-_KEPT:]
            if not text or nul_at is not None:
                continue  # after a NUL: decode on, only to find a decoding error
            if "\x00" in text:
                nul_at = chars + text.index("\x00")
                continue
            if chars == 0 and text.startswith(_BOM):
                chars += 1
                text = text[1:]
            chars += len(text)
            if text:
                yield text
        if nul_at is not None:
            self.fail(
                f"not a text/{self.what} file: binary content (NUL character at position {nul_at})"
            )

    def _not_decodable(
        self,
        exc: UnicodeDecodeError,
        fed: int,
        kept: bytes,
        block: bytes,
        newlines: int,
    ) -> NoReturn:
        """The reason decode_text gives, at the absolute offset of the first bad byte."""
        at = fed - len(exc.object) + exc.start  # exc.object: the decoder's buffer + block
        window = kept + block
        window_start = fed - len(window)
        line = newlines - kept.count(b"\n") + window.count(b"\n", 0, at - window_start) + 1
        self.file.drain()  # the whole head is known now
        head = self.file.head
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.fail(
                f"bytes are not valid {self.encoding}: the file starts with a UTF-16 byte "
                "order mark; declare `encoding: utf-16` in the pipeline file"
            )
        if b"\x00" in head[:KEPT_HEAD]:
            self.fail(f"not a text/{self.what} file: binary content (NUL bytes)")
        self.fail(undecodable(self.encoding, at, line, exc.reason))


def line_blocks(pieces: Iterable[str], target: int, *, universal: bool) -> Iterator[str]:
    """Join text pieces into blocks of whole lines: each block ends at the first line
    end at or after ``target`` characters (the last block may end without one).

    ``universal``: "\\n", "\\r\\n" and a lone "\\r" end a line (as Python's csv module
    reads lines); otherwise only "\\n" does (JSON Lines). A "\\r\\n" is never split.
    """
    target = max(1, target)
    parts: list[str] = []
    size = 0  # characters in parts
    held = ""  # a trailing "\r": is it "\r\n"? the next piece says
    for piece in pieces:
        if held:
            piece, held = held + piece, ""
        if universal and piece.endswith("\r"):
            piece, held = piece[:-1], "\r"
        start = 0
        while start < len(piece):
            end = _line_end(piece, max(start, start + target - 1 - size), universal)
            if end < 0:
                parts.append(piece[start:] if start else piece)
                size += len(piece) - start
                break
            parts.append(piece[start:end])
            block = "".join(parts)
            parts, size, start = [], 0, end  # released before the block is parsed
            yield block
            del block
    if held:
        parts.append(held)
    if parts:
        yield "".join(parts)


def _line_end(text: str, start: int, universal: bool) -> int:
    """The index just after the first line end at or after ``start``, or -1."""
    newline = text.find("\n", start)
    if universal:
        cr = text.find("\r", start, newline if newline >= 0 else len(text))
        if cr >= 0:
            return cr + 2 if text.startswith("\n", cr + 1) else cr + 1
    return newline + 1 if newline >= 0 else -1
