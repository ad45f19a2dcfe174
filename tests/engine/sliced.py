"""A FileBatch made from a RawBatch held in memory, sliced into chunks of ``rows`` records:
the engine's chunked path tested apart from the file readers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import polars as pl

from tidegate.batches import RECORD_COLUMN, FileChangedError, FileReject, RawBatch


@dataclass
class SlicedBatch:
    raw: RawBatch
    rows: int
    reads: int = 0
    change_on_read: int | None = None  # the pass (1-based) on which the content "changes"
    _sha: str | None = field(default=None, repr=False)

    @property
    def source(self) -> str:
        return self.raw.source

    @property
    def location(self) -> str:
        return self.raw.location

    @property
    def fmt(self) -> str:
        return self.raw.fmt

    @property
    def content_sha256(self) -> str | None:
        return self._sha

    def hash(self) -> str:
        self._sha = self.raw.content_sha256
        return self._sha

    def chunks(self) -> Iterator[RawBatch]:
        self.reads += 1
        frame = self.raw.frame
        records = sorted(
            [(int(r), "row", i) for i, r in enumerate(frame[RECORD_COLUMN].to_list())]
            + [(rej.record, "reject", rej) for rej in self.raw.rejects],
            key=lambda t: t[0],
        )
        if not records:
            yield replace(self.raw, content_sha256="")
        for start in range(0, len(records), self.rows):
            part = records[start : start + self.rows]
            rows = [i for _, kind, i in part if kind == "row"]
            rejects = tuple(r for _, kind, r in part if kind == "reject")
            yield replace(
                self.raw,
                content_sha256="",
                frame=frame[rows] if rows else frame.head(0),
                rejects=rejects,  # type: ignore[arg-type]
            )
        sha = self.raw.content_sha256
        if self.change_on_read == self.reads:
            sha = hashlib.sha256(b"changed").hexdigest()
            if self._sha is None:
                raise FileChangedError(self.location, "size 10 -> 20 bytes")
        if self._sha is not None and sha != self._sha:
            raise FileChangedError(self.location, "its content differs from the first read")
        self._sha = sha

    def collect(self) -> RawBatch | FileReject:
        return self.raw


def sliced(raw: RawBatch, rows: int) -> SlicedBatch:
    return SlicedBatch(raw, rows)


__all__ = ["SlicedBatch", "pl", "sliced"]
