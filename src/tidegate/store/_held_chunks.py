"""The chunks of a file held in this process's memory for its publication, not staged.

A file read in chunks stages its rows in the store a few chunks at a time; the chunks
still unwritten when the file ends are held here instead, by stage id, and the
publishing transaction reads them where they are (:mod:`tidegate.store._staging`).
Held rows live no longer than the process: a kill loses only what was never
published, and leaves nothing to clean. They are never published from another process:
a publication that expects held rows it cannot find is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

Chunks = list[tuple[int, "pl.DataFrame", "pl.DataFrame"]]  # (number, typed, quarantine)


@dataclass
class _Held:
    source: str
    chunks: Chunks


_held: dict[str, _Held] = {}  # stage id -> the chunks held in memory


def hold_chunks(source: str, stage_id: str, chunks: Chunks) -> int:
    """Keep routed chunks for the publication of ``stage_id`` (after every staged one);
    how many typed rows the stage holds in all."""
    held = _held.setdefault(stage_id, _Held(source, []))
    held.chunks.extend(chunks)
    return sum(typed.height for _, typed, _ in held.chunks)


def held_chunks(stage_id: str, expected_rows: int) -> Chunks:
    """The chunks ``stage_id`` holds, which must hold ``expected_rows`` typed rows."""
    held = _held.get(stage_id)
    chunks = held.chunks if held else []
    rows = sum(typed.height for _, typed, _ in chunks)
    if rows != expected_rows:
        raise RuntimeError(
            f"stage {stage_id} held {expected_rows} rows for publication in this process "
            f"but {rows} are here: publish a staged file in the process that staged it"
        )
    return chunks


def forget_held(stage_id: str) -> None:
    """Drop what ``stage_id`` holds (published, skipped or discarded)."""
    _held.pop(stage_id, None)


def forget_source(source: str) -> None:
    """Drop what earlier, failed runs of ``source`` in this process left held."""
    for stage_id in [k for k, v in _held.items() if v.source == source]:
        forget_held(stage_id)
