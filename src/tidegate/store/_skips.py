"""Skips in bulk: which batch keys of a source are committed, and many skips audited at once.

A run over files that are all committed already does no work but audit one
``batch_skipped`` entry per file. Each store operation opens the store (a DuckDB
connection costs some 15 ms to open, more to close after a write), so a run reads
the source's committed keys once (:func:`committed_keys`) and audits consecutive
skips in one transaction (:func:`record_skips`), in read order, with the same audit
entries as :func:`tidegate.store.record_skip` writes one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tidegate.contracts._model import Contract
from tidegate.store._audit_log import append_audit_many, default_actor
from tidegate.store._committed import (
    COMMITTED_COLUMNS,
    BatchOutcome,
    CommittedBatch,
    skip_detail,
    skip_outcome,
)
from tidegate.store._connect import read_if_made, transaction
from tidegate.store._tables import ensure_store_tables

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store

# Above this many committed keys a run looks keys up one by one instead of holding
# them all in memory (a set of some 100-byte strings).
COMMITTED_KEYS_LIMIT = 100_000


def committed_keys(
    store: Store, source: str, limit: int = COMMITTED_KEYS_LIMIT
) -> frozenset[str] | None:
    """The batch keys of ``source`` committed so far (one short read), or None when there
    are more than ``limit`` of them (then look each one up with ``lookup_committed``)."""
    return committed_content(store, source, limit)[0]


def committed_content(
    store: Store, source: str, limit: int = COMMITTED_KEYS_LIMIT
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """In one short read: the batch keys of ``source`` committed so far, and the
    locations (file paths) they were read from; each None when there are more than
    ``limit`` (then look keys up one by one, and treat every path as seen before)."""
    with read_if_made(store) as con:
        if con is None:
            return frozenset(), frozenset()
        rows = con.execute(
            "SELECT batch_key, location FROM checkpoints WHERE source = ? "
            "AND status = 'committed' LIMIT ?",
            [source, limit + 1],
        ).fetchall()
    if len(rows) > limit:
        return None, None
    return frozenset(str(r[0]) for r in rows), frozenset(str(r[1]) for r in rows if r[1])


def _find_many(
    con: duckdb.DuckDBPyConnection, source: str, keys: Sequence[str]
) -> dict[str, CommittedBatch]:
    found: dict[str, CommittedBatch] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = con.execute(
            f"SELECT batch_key, {COMMITTED_COLUMNS} FROM checkpoints "
            f"WHERE source = ? AND status = 'committed' AND batch_key IN ({marks})",
            [source, *chunk],
        ).fetchall()
        found.update({str(r[0]): CommittedBatch(*r[1:]) for r in rows})
    return found


def record_skips(
    store: Store,
    source: str,
    skips: Sequence[tuple[str, str]],
    contract: Contract | None,
    actor: str | None = None,
) -> list[BatchOutcome]:
    """Audit that each ``(location, batch_key)`` was skipped, in order, in one transaction.

    Stops before the first key that is not committed after all (the caller processes
    that item, then audits the rest): the outcomes returned are those of the audited
    prefix, so the audit reads exactly as if each skip had been written on its own.
    """
    if not skips:
        return []
    who = actor or default_actor()
    with transaction(store) as con:
        ensure_store_tables(con)
        found = _find_many(con, source, [key for _, key in skips])
        audited: list[tuple[str, str, CommittedBatch]] = []
        for location, key in skips:
            earlier = found.get(key)
            if earlier is None:
                break
            audited.append((location, key, earlier))
        entries = append_audit_many(
            con,
            [
                (
                    "batch_skipped",
                    skip_detail(location, key, earlier, contract),
                    source,
                    earlier.batch_id,
                )
                for location, key, earlier in audited
            ],
            actor=who,
        )
    return [
        skip_outcome(source, location, earlier, entry.seq, contract)
        for (location, _, earlier), entry in zip(audited, entries, strict=True)
    ]
