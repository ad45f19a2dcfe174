"""A source's run, Prefect-free: every item read, committed content skipped, each new
batch through the stages, each unreadable file quarantined, in read order.

The caller holds the source's run lock (:meth:`Store.source_lock`), so what an earlier,
killed run of the source staged and never published is deleted first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tidegate.batches import FileBatch, FileReject, RawBatch
from tidegate.batches._read_options import reading_with
from tidegate.contracts import Contract
from tidegate.engine._shadow import ShadowCandidate, shadowing
from tidegate.engine._skips import skip_committed
from tidegate.engine._stages import ENGINE_STAGES, Stages, ingest_batch
from tidegate.errors import SourceUnavailableError

if TYPE_CHECKING:
    from tidegate.monitor import MonitorConfig
    from tidegate.store import BatchOutcome, Store

Item = RawBatch | FileBatch | FileReject


def read_options_of(source: object) -> dict[str, Any] | None:
    """The options that change what a source's bytes read as (a file source's
    encoding, delimiter, ...), recorded with each batch it commits; None for others."""
    from tidegate.sources import FileSource

    return source.read_options() if isinstance(source, FileSource) else None


def read_or_audit(
    items: Iterator[Item | BatchOutcome], store: Store, source: str, actor: str | None
) -> Item | BatchOutcome | None:
    """The next item, or None at the end; a source that gave up after its own retries
    (SourceUnavailableError) is audited as ``source_failed``, then re-raised."""
    from tidegate.store import record_source_failure

    try:
        return next(items, None)
    except SourceUnavailableError as exc:
        record_source_failure(store, source, str(exc), actor=actor)
        raise


def run_items(
    store: Store,
    items: Iterable[Item],
    contract: Contract,
    *,
    reprocess: bool = False,
    actor: str | None = None,
    monitor: MonitorConfig | None = None,
    stages: Stages = ENGINE_STAGES,
    on_item: Callable[[Item | BatchOutcome], None] | None = None,
    on_outcome: Callable[[BatchOutcome], None] | None = None,
    read_options: Mapping[str, Any] | None = None,
    shadow: ShadowCandidate | None = None,
) -> list[BatchOutcome]:
    """Run every item a source read; one outcome per item, in read order.

    ``on_item`` is called as an item starts, ``on_outcome`` as it ends (the flow
    reports progress and emits events there). ``read_options`` (:func:`read_options_of`
    the source) are recorded with each commit and compared when content is skipped.
    With ``shadow`` (the pipeline's ``shadow:``), each batch is also judged under the
    candidate contract, nothing loaded under it (:mod:`tidegate.engine._shadow`)."""
    with reading_with(read_options), shadowing(shadow):
        return _run_items(
            store, items, contract, reprocess, actor, monitor, stages, on_item, on_outcome
        )


def catch_up_monitor(
    store: Store, monitor: MonitorConfig | None, contract: Contract, actor: str | None
) -> None:
    """Profile and check the batches an earlier, killed run of the source committed but
    never monitored (:mod:`tidegate.monitor._catch_up`). The caller holds the source's
    run lock. Monitoring never stops a run: a failure here is logged and the run goes on."""
    import logging

    from tidegate.monitor import catch_up, never_stops_run

    logger = logging.getLogger("tidegate.monitor")
    what = "catching up the monitoring of %s's earlier batches failed"
    with never_stops_run(logger, what, contract.source):
        catch_up(store, monitor, contract, actor=actor)


def _run_items(
    store: Store,
    items: Iterable[Item],
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    monitor: MonitorConfig | None,
    stages: Stages,
    on_item: Callable[[Item | BatchOutcome], None] | None,
    on_outcome: Callable[[BatchOutcome], None] | None,
) -> list[BatchOutcome]:
    from tidegate.store import BatchOutcome
    from tidegate.store._staging import clear_staging

    clear_staging(store, contract)  # what a killed run of this source staged and left
    catch_up_monitor(store, monitor, contract, actor)  # what it committed, never monitored
    pending = skip_committed(
        iter(items), store, contract, actor, reprocess=reprocess, record=stages.skip
    )
    outcomes: list[BatchOutcome] = []
    while (item := read_or_audit(pending, store, contract.source, actor)) is not None:
        if on_item:
            on_item(item)
        if isinstance(item, BatchOutcome):  # skipped: already committed, skip audited
            outcome = item
        elif isinstance(item, FileReject):
            outcome = stages.reject(store, item, contract, reprocess, actor)
        else:
            outcome = ingest_batch(
                store,
                item,
                contract,
                reprocess=reprocess,
                actor=actor,
                monitor=monitor,
                stages=stages,
            )
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes
