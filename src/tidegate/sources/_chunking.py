"""Pieces of parsed records, and how the streaming readers cut them into chunks.

A reader parses a file block by block into :class:`Piece` objects (a frame of records
and the record rejects among them, in record order); these functions turn the pieces
into the chunks a :class:`tidegate.batches.ChunkSize` asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from tidegate.batches import RECORD_COLUMN, RecordReject


@dataclass
class Piece:
    """Consecutive records of one file: the rows that split into fields, and the rejects."""

    frame: pl.DataFrame
    rejects: list[RecordReject] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.frame.height + len(self.rejects)


def concat_frames(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Frames of the same file in order, as one; columns that only later frames have
    (JSON Lines keys seen later) are null before, and in the last frame's order."""
    if len(frames) == 1:
        return frames[0]
    columns = frames[-1].columns
    if all(frame.columns == columns for frame in frames):
        return pl.concat(frames)
    return pl.concat(frames, how="diagonal").select(columns)


def concat_pieces(pieces: list[Piece]) -> Piece:
    rejects = [reject for piece in pieces for reject in piece.rejects]
    return Piece(concat_frames([piece.frame for piece in pieces]), rejects)


def split_piece(piece: Piece, count: int) -> tuple[Piece, Piece]:
    """The first ``count`` records of ``piece`` (rows and rejects by record number), and
    the rest."""
    numbers = piece.frame.get_column(RECORD_COLUMN)
    rows = count
    taken = 0  # rejects taken
    for reject in piece.rejects:
        before = int(numbers.search_sorted(reject.record))  # rows ahead of this reject
        if before + taken >= count:
            break
        taken += 1
        rows = count - taken
    rows = min(rows, piece.frame.height)
    head = Piece(piece.frame.slice(0, rows), piece.rejects[:taken])
    tail = Piece(piece.frame.slice(rows), piece.rejects[taken:])
    return head, tail


def rows_chunks(pieces: Iterable[Piece], rows: int) -> Iterator[Piece]:
    """Chunks of exactly ``rows`` records (the last one fewer); at least one chunk."""
    buffer: list[Piece] = []
    count = 0
    last: Piece | None = None
    emitted = False
    for piece in pieces:
        last = None if emitted else piece  # kept only to give an empty file its chunk
        while piece.records:
            head, piece = split_piece(piece, rows - count)
            buffer.append(head)
            count += head.records
            if count == rows:
                yield concat_pieces(buffer)
                buffer, count, emitted = [], 0, True
    if buffer:
        yield concat_pieces(buffer)
    elif not emitted and last is not None:
        yield last


def nonempty_chunks(pieces: Iterable[Piece]) -> Iterator[Piece]:
    """The pieces that hold records; at least one (the last) when none does."""
    last: Piece | None = None
    emitted = False
    for piece in pieces:
        last = None if emitted else piece  # kept only to give an empty file its chunk
        if piece.records:
            emitted = True
            yield piece
        del piece
    if not emitted and last is not None:
        yield last
