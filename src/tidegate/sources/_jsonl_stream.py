"""JSON Lines read block by block: the same records as the whole-file reader.

:class:`JsonLinesStream` reads format ``jsonl`` line by line, with the line numbers and
the record rejects of :func:`tidegate.sources._jsonl.read_json_bytes`. Each piece's
frame has every key seen so far in the file (first-seen order, null where a record
lacks it), so the columns only grow from chunk to chunk and the last chunk has the
whole file's columns.

A JSON document cannot be streamed without a streaming JSON parser, so a ``jsonl``
file whose content is one JSON document is read whole, as the whole-file reader reads
it, into one piece: when its first non-blank character is ``[``, or when its first
record is an object that does not end on its first line (a pretty-printed object).
Format ``json`` is always read whole. JSON Lines is the format for large inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import NoReturn

from tidegate.sources._chunking import Piece
from tidegate.sources._jsonl import (
    _JSON_WHITESPACE,
    _Collector,
    _loads,
    add_line,
    parse_json_text,
)


def json_document(text: str, fail: Callable[[str], NoReturn], *, document: bool) -> Piece:
    """A whole JSON (or JSON Lines) text as one piece; ``fail`` refuses the file."""
    records = parse_json_text(text, document=document)
    if isinstance(records, str):
        fail(records)
    return Piece(records.frame(), records.rejects)


def _lines(block: str) -> list[str]:
    lines = block.split("\n")
    if block.endswith("\n"):
        lines.pop()  # no line after the last "\n"
    return lines


class JsonLinesStream:
    """The records of one JSON Lines text given block by block (see the module docstring).

    ``rows``: a piece holds exactly that many records (the last one fewer); otherwise a
    piece is yielded at the end of a block once it holds ``min_chars`` characters. The
    last piece comes at the end, maybe empty.
    """

    def __init__(self, *, rows: int | None, min_chars: int) -> None:
        self.line = 0  # lines before the next block
        self._rows = rows
        self._min_chars = min_chars
        self._columns: dict[str, None] = {}
        self._records = _Collector(self._columns)
        self._chars = 0
        # the first record, while it may be the file's only one: the whole-file reader
        # reads such a file as one document, where a reject's raw text is stripped
        self._held: tuple[int, str] | None = None  # (index in rejects, stripped raw)
        self._first_parses = False  # the first record is an object on one line
        self._first_seen = False
        self._seen = 0  # non-blank lines read

    def pieces(self, blocks: Iterator[str], fail: Callable[[str], NoReturn]) -> Iterator[Piece]:
        blocks = iter(blocks)
        blank: list[str] = []  # blocks of blank lines before the first record
        for block in blocks:
            if not self._first_seen:
                whole = self._is_document(block)
                if whole is None:
                    blank.append(block)
                    self.line += len(_lines(block))
                    continue
                if whole:
                    text = "".join(blank) + block + "".join(blocks)
                    yield json_document(text, fail, document=False)
                    return
                self._first_seen = True
                blank = []
            yield from self._block(block)
            if self._rows is None and self._held is None and self._chars >= self._min_chars:
                yield self._take()
        if self._held is not None:  # the only record: raw as the document reader has it
            at, stripped = self._held
            rejects = self._records.rejects
            rejects[at] = replace(rejects[at], raw=stripped)
        yield self._take()

    def _is_document(self, block: str) -> bool | None:
        """Is the file one JSON document? None if ``block`` holds blank lines only."""
        for line in _lines(block):
            content = line.strip(_JSON_WHITESPACE)
            if not content:
                continue
            if content.startswith("["):
                return True
            if content.startswith("{"):
                try:
                    _loads(line)
                except json.JSONDecodeError as exc:
                    # an error at the end of the line: the object may go on below it
                    return exc.pos >= len(line.rstrip(_JSON_WHITESPACE))
                except (ValueError, RecursionError):
                    return False
                self._first_parses = True
            return False
        return None

    def _block(self, block: str) -> Iterator[Piece]:
        lines = _lines(block)
        for number, line in enumerate(lines, start=self.line + 1):
            if line.strip(_JSON_WHITESPACE) == "":
                continue
            self._held = None  # a second record: the file is not one document
            if self._rows is not None and self._records.count >= self._rows:
                yield self._take()
            records = self._records
            rejected = len(records.rejects)
            add_line(records, number, line)
            if self._seen == 0 and self._first_parses and len(records.rejects) > rejected:
                self._held = (rejected, line.strip(_JSON_WHITESPACE))
            self._seen += 1
        self.line += len(lines)
        self._chars += len(block)

    def _take(self) -> Piece:
        records = self._records
        self._records = _Collector(self._columns)
        self._chars = 0
        return Piece(records.frame(), records.rejects)
