"""Committed content skipped cheaply: one read of the committed keys, skips audited in bulk.

A run reads its source through :func:`skip_committed`. An item whose batch key is
committed already is not handed to the stages: consecutive such items are audited
together by one call of ``record`` (one store transaction; the flow passes its
``skip-committed`` task, retried like the other store tasks) just before the next
item that has work to do, or at the end of the source, and come out as their
``batch_skipped`` outcomes, in read order.
The audit reads as before: one ``batch_skipped`` entry per item, in read order, ahead
of the next batch's own entries. An item that turns out not to be committed after all
comes out as itself and goes through the stages (which check again in their commit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from tidegate.batches import FileBatch, FileReject, RawBatch
from tidegate.contracts import Contract
from tidegate.store import BatchOutcome, lookup_committed
from tidegate.store._committed import batch_key_of
from tidegate.store._skips import committed_content, record_skips

if TYPE_CHECKING:
    from tidegate.store import Store

# Skips audited per transaction, and raw rows held by waiting skips, at most.
FLUSH_ITEMS = 500
FLUSH_ROWS = 200_000

Item = RawBatch | FileBatch | FileReject


# record(store, source, [(location, batch_key), ...], contract, actor) -> outcomes
RecordSkips = Callable[..., list[BatchOutcome]]


def skip_committed(
    items: Iterator[Item],
    store: Store,
    contract: Contract,
    actor: str | None,
    *,
    reprocess: bool = False,
    record: RecordSkips = record_skips,
) -> Iterator[Item | BatchOutcome]:
    """``items``, with each already-committed one replaced by its audited skip outcome.

    With ``reprocess`` every item comes out unchanged (nothing is skipped)."""
    if reprocess:
        yield from items
        return
    committed, locations = committed_content(store, contract.source)
    waiting: list[Item] = []
    rows = 0
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except BaseException:  # the source failed: the skips read so far are audited first
            _audit(waiting, store, contract, actor, record)
            raise
        key = _batch_key(item, locations)
        known = key is not None and (
            key in committed
            if committed is not None
            else lookup_committed(store, contract.source, key) is not None
        )
        if known:
            waiting.append(item)
            rows += item.rows_in if isinstance(item, RawBatch) else 0
            if len(waiting) >= FLUSH_ITEMS or rows >= FLUSH_ROWS:
                yield from _drain(waiting, store, contract, actor, record)
                rows = 0
            continue
        yield from _drain(waiting, store, contract, actor, record)
        rows = 0
        yield item
    yield from _drain(waiting, store, contract, actor, record)


def _batch_key(item: Item, locations: frozenset[str] | None) -> str | None:
    """The item's batch key, or None for a file not hashed yet at a path that never
    committed: it is read once, hashing while it is parsed, and its publication checks
    the key. A file at a path that committed before is hashed first (likely the same
    content again: a skip then costs one read of the bytes and no parse)."""
    if isinstance(item, RawBatch | FileReject) or item.content_sha256 is not None:
        return batch_key_of(item)
    if locations is not None and item.location not in locations:
        return None
    item.hash()
    return batch_key_of(item)


def _drain(
    waiting: list[Item], store: Store, contract: Contract, actor: str | None, record: RecordSkips
) -> Iterator[Item | BatchOutcome]:
    """Audit the waiting skips and yield their outcomes; an item that is no longer
    committed is yielded as itself, in its place, and the rest audited after it."""
    while waiting:
        outcomes = _audit(waiting, store, contract, actor, record)
        del waiting[: len(outcomes)]
        yield from outcomes
        if waiting:
            yield waiting.pop(0)


def _audit(
    waiting: list[Item], store: Store, contract: Contract, actor: str | None, record: RecordSkips
) -> list[BatchOutcome]:
    if not waiting:
        return []
    skips = [(item.location, batch_key_of(item)) for item in waiting]
    return record(store, contract.source, skips, contract, actor)
