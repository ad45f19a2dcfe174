"""The shadow of a file read in chunks: each chunk routed under the candidate by its own
rows' checks (:func:`tidegate.route.route_chunk`, as the current contract's staging
does), compared with the current verdict, and added up; the candidate's hold is decided
from the summed counts when the file is published.

Not covered for a streamed file (they need every chunk at once, which the current
contract gets from the staged rows in the store): the candidate's primary keys repeated
across chunks, its ``unique`` values and GX uniqueness expectations across chunks, and
its batch expectations. Exact duplicates are not left out chunk by chunk (they are known
only when the file is published), so a duplicate that the candidate fails counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from tidegate.batches import RawBatch
from tidegate.engine._shadow import ShadowCandidate, ShadowTally, compare
from tidegate.normalize import header_finding, normalize
from tidegate.route import hold_reason, route_chunk
from tidegate.validate import validate


@dataclass(frozen=True)
class ChunkShadow:
    """A streamed file's shadow so far: small, so a staged batch can carry it on."""

    candidate: ShadowCandidate
    tally: ShadowTally = field(default_factory=ShadowTally)
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    def add(self, chunk: RawBatch, current: pl.DataFrame) -> ChunkShadow:
        """This chunk routed under the candidate and compared with ``current``, the
        chunk's quarantine under the current contract."""
        contract = self.candidate.contract
        normalized = normalize(chunk.frame, contract)
        validated = validate(normalized.frame, contract)
        routed = route_chunk(chunk, normalized, validated, contract)
        return ChunkShadow(
            self.candidate,
            self.tally + compare(current, routed.quarantine, chunk.rows_in),
            normalized.missing_columns,  # columns only grow from chunk to chunk
            tuple(dict.fromkeys(self.unknown + normalized.unknown_columns)),
        )

    def detail(self, rows_in: int, duplicates: int) -> dict[str, Any]:
        """``detail["shadow"]`` of the whole file: ``rows_in`` records read, of which
        ``duplicates`` are exact duplicates under the current contract; the candidate's
        policy decides its hold from the summed counts."""
        contract = self.candidate.contract
        held = hold_reason(
            contract,
            self.tally.quarantined,
            rows_in,
            self.missing,
            len(contract.columns),
            header_finding(self.unknown, self.missing),
        )
        tally = replace(self.tally, judged=rows_in - duplicates)
        return tally.detail(self.candidate.name, contract, held)
