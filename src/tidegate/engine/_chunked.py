"""A file read in chunks: staged chunk by chunk, published in one transaction.

Memory stays bounded by the chunk size, whatever the size of the file, and the batch
stays atomic:

1. :func:`stage` reads the file's chunks (hashing its bytes as it goes); each chunk is
   normalized, validated by its own rows' checks and routed (:func:`route_chunk`), and
   its typed rows and quarantine rows are staged in the store in one short transaction
   (:func:`tidegate.store.stage_chunk`). What the batch's profile and audit entry need
   is added up on the way; nothing of a chunk is kept after it is staged.
2. :func:`publish` opens one transaction (:func:`tidegate.store.publishing`): a content
   committed already is audited as a skip; otherwise the rules that span the whole batch
   run in SQL over the staged rows (``unique`` values and primary keys repeated across
   chunks, keys already in the target), the batch is held when its policy says so, and
   when a rule moved rows that had been staged to load (or the batch is held), the file
   is read a second time to write those rows' quarantine entries with every error, as a
   batch routed in one piece would have them. Then the staged rows are published with
   the checkpoint and the audit entry.

A kill -9 anywhere leaves only staged rows no checkpoint names (deleted by the source's
next run), so a file is published whole or not at all.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import (
    RECORD_COLUMN,
    FileBatch,
    FileChangedError,
    FileReject,
    FileUnreadableError,
    RawBatch,
)
from tidegate.contracts import Contract
from tidegate.engine._lines import line_check
from tidegate.engine._prepare import prepare
from tidegate.engine._progress import emit
from tidegate.engine._shadow import active_shadow
from tidegate.engine._shadow_chunks import ChunkShadow
from tidegate.normalize import header_finding, normalize
from tidegate.route import hold_reason, route_chunk, with_judgement
from tidegate.validate import (
    BatchJudgement,
    judge_batch,
    referenced_columns,
    validate,
    with_row_results,
)

if TYPE_CHECKING:
    from tidegate.store import BatchOutcome, Store
    from tidegate.store._staging import Publication


# Test-only hook (like the SQL source's): seconds to sleep after each chunk (each chunk
# then staged at once), announced on stderr, so that a test can kill the process
# part-way through a file's staging or its second read.
TEST_PAUSE_ENV = "TIDEGATE_TEST_PAUSE_AFTER_CHUNK"


def _test_pause(step: str, number: int) -> bool:
    seconds = os.environ.get(TEST_PAUSE_ENV)
    if not seconds:
        return False
    print(f"tidegate-test: {step} chunk {number}", file=sys.stderr, flush=True)
    time.sleep(float(seconds))
    return True


# Routed rows are staged when this much has been routed and not yet written, or this
# many chunks (a transaction per chunk would cost a store connection per chunk when
# chunks are small). What is left unwritten when the file ends (less than either) is
# not staged at all but held in memory for the publication
# (:mod:`tidegate.store._held_chunks`): a file that fits is written once, into
# the target, instead of staged and copied. Memory: up to the smaller of the two beside
# the chunk being read, so a smaller ``chunk_size`` still means a smaller process.
WRITE_BYTES = 256 * 1024**2
WRITE_CHUNKS = 8


@dataclass(frozen=True)
class StagedBatch:
    """What staging a file left to publish: small (no rows), so a Prefect task can pass
    it on and a flow over many files holds only these."""

    stage_id: str
    source: str
    location: str
    content_sha256: str
    rows_in: int  # records read: parsed rows and records that could not be split
    quarantined: int  # rows that failed their own checks, and unreadable records
    chunks: int
    duration_ms: int
    normalize_counts: dict[str, int] = field(default_factory=dict)
    missing_columns: tuple[str, ...] = ()
    unknown_columns: tuple[str, ...] = ()
    profile: dict[str, Any] = field(default_factory=dict)  # the chunk-wise profile parts
    lines: dict[str, int] | None = None  # how the file's lines were used (CSV)
    unaccounted: str | None = None  # why they do not add up: the batch is held
    shadow: ChunkShadow | None = None  # a shadowed candidate's verdict, chunk by chunk
    held_rows: int = 0  # typed rows of the last chunks, held in this process, not staged


@dataclass(frozen=True)
class Deferred:
    """A file that changed while it was read: nothing of it is published this run."""

    source: str
    location: str
    why: str

    @property
    def reason(self) -> str:
        return (
            f"file changed while read ({self.why}); nothing of it was committed, it will be "
            "read on the next run"
        )

    def outcome(self, audit_seq: int = 0) -> BatchOutcome:
        from tidegate.store import BatchOutcome

        return BatchOutcome(
            source=self.source,
            location=self.location,
            batch_id="",
            event="batch_deferred",
            reason=self.reason,
            audit_seq=audit_seq,
        )

    def audited(self, store: Store, actor: str | None = None) -> BatchOutcome:
        """The outcome, with its ``batch_deferred`` audit entry written."""
        from tidegate.store._deferrals import record_deferral

        seq = record_deferral(store, self.source, self.location, self.why, self.reason, actor)
        return self.outcome(seq)


@dataclass(frozen=True)
class Committed:
    """A file that fit in one chunk, committed in one piece (one transaction, as a batch
    held in memory), with its profile for the monitor: nothing to stage or publish."""

    outcome: BatchOutcome
    profile: dict[str, Any] | None  # None: not monitored (a skip)


def stage(
    store: Store,
    batch: FileBatch,
    contract: Contract,
    reprocess: bool = False,
    actor: str | None = None,
    *,
    one_piece: bool = True,
) -> StagedBatch | Committed | FileReject | Deferred:
    """Read, check and stage every chunk of one file (see the module docstring).

    A file of one chunk (most files: the default chunk is 32 MiB) is not staged: it is
    committed in one piece at once (``Committed``), as a batch held in memory, which costs
    one transaction instead of a staging write and a copy (``one_piece=False`` stages it
    anyway: the Dask path, whose commits must run in read order). A file found
    unreadable part-way comes back as its FileReject, a file that changed while it was
    read as Deferred; either way what was staged of it is deleted.

    The chunks routed but not yet written when the file ends are held in this process
    for :func:`publish` (``StagedBatch.held_rows``), not staged; ``one_piece=False``
    stages every chunk (the Dask path may publish in another process)."""
    from tidegate.monitor import ProfileParts
    from tidegate.store._held_chunks import forget_held, hold_chunks
    from tidegate.store._staging import discard_staged, new_stage_id, stage_chunks

    started = time.perf_counter()
    pending: list[tuple[int, pl.DataFrame, pl.DataFrame]] = []
    pending_bytes = 0
    written = False
    held_rows = 0

    def flush() -> None:
        nonlocal pending_bytes, written
        if pending or not written:
            stage_chunks(store, contract, stage_id, pending, first=not written)
        pending.clear()
        pending_bytes = 0
        written = True

    def finish() -> None:
        nonlocal held_rows
        if one_piece and not os.environ.get(TEST_PAUSE_ENV):
            held_rows = hold_chunks(contract.source, stage_id, pending)
            pending.clear()
        else:
            flush()

    def discard() -> None:
        forget_held(stage_id)
        if written:
            discard_staged(store, contract, stage_id)

    stage_id = new_stage_id()
    parts = ProfileParts()
    rows_in = quarantined = chunks = 0
    counts: dict[str, int] = {}
    unknown: dict[str, None] = {}
    missing: tuple[str, ...] = ()
    candidate = active_shadow()
    shadow = ChunkShadow(candidate) if candidate is not None else None
    try:
        read = iter(batch.chunks())
        first = next(read)
        second = next(read, None) if one_piece else None
        if one_piece and second is None:  # the whole file in one chunk
            lines, unaccounted = line_check(batch, first.rows_in)
            if unaccounted is None:  # else staged, so that publishing holds it
                return _commit_one_piece(
                    store, batch, first, contract, reprocess, actor, started, lines
                )
        for chunk in itertools.chain([first], [second] if second is not None else [], read):
            normalized = normalize(chunk.frame, contract)
            validated = validate(normalized.frame, contract)
            routed = route_chunk(chunk, normalized, validated, contract)
            pending.append((chunks, routed.typed, routed.quarantine))
            if shadow is not None:
                shadow = shadow.add(chunk, routed.quarantine)
            pending_bytes += int(routed.typed.estimated_size() + routed.quarantine.estimated_size())
            full = pending_bytes >= WRITE_BYTES or len(pending) >= WRITE_CHUNKS
            if full or os.environ.get(TEST_PAUSE_ENV):
                flush()
            _test_pause("staged", chunks)
            parts.add(chunk.frame, normalized.frame, normalized.unknown_columns)
            rows_in += routed.rows_in
            quarantined += routed.quarantine.height
            for rule, n in normalized.rule_counts.items():
                counts[rule] = counts.get(rule, 0) + n
            unknown.update(dict.fromkeys(normalized.unknown_columns))
            missing = normalized.missing_columns  # columns only grow from chunk to chunk
            chunks += 1
            emit("chunk_done", source=contract.source, location=batch.location, rows=rows_in)
        del first, second
        finish()
        lines, unaccounted = line_check(batch, rows_in)  # the pass is complete
    except FileUnreadableError as exc:
        discard()
        return exc.reject
    except FileChangedError as exc:
        discard()
        return Deferred(contract.source, batch.location, exc.why)
    except BaseException:
        discard()
        raise
    return StagedBatch(
        stage_id=stage_id,
        source=contract.source,
        location=batch.location,
        content_sha256=batch.content_sha256 or "",
        rows_in=rows_in,
        quarantined=quarantined,
        chunks=chunks,
        duration_ms=int((time.perf_counter() - started) * 1000),
        normalize_counts=dict(sorted(counts.items())),
        missing_columns=missing,
        unknown_columns=tuple(unknown),
        profile=parts.finish(missing),
        lines=lines,
        unaccounted=unaccounted,
        shadow=shadow,
        held_rows=held_rows,
    )


def _commit_one_piece(
    store: Store,
    batch: FileBatch,
    chunk: RawBatch,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
    started: float,
    lines: dict[str, int] | None = None,
) -> Committed:
    """A file of one chunk: prepared and committed as a batch held in memory."""
    from tidegate.monitor import profile_batch
    from tidegate.monitor._monitor import MONITORED_EVENTS
    from tidegate.store import commit_batch

    raw = replace(chunk, content_sha256=batch.content_sha256 or "")
    routed = prepare(raw, contract).routed
    outcome = commit_batch(
        store,
        routed,
        contract,
        reprocess=reprocess,
        actor=actor,
        duration_ms=int((time.perf_counter() - started) * 1000),
        lines=lines,
    )
    emit("chunk_done", source=contract.source, location=batch.location, rows=raw.rows_in)
    if outcome.event not in MONITORED_EVENTS:
        return Committed(outcome, None)
    pii = {c.name for c in contract.columns if c.pii}
    return Committed(outcome, profile_batch(routed, pii_columns=pii))


def publish(
    store: Store,
    staged: StagedBatch,
    batch: FileBatch,
    contract: Contract,
    reprocess: bool,
    actor: str | None,
) -> BatchOutcome:
    """Publish one staged file in one transaction, or audit it as a skip (content
    committed already); a file that changed before its second read is Deferred."""
    from tidegate.store import default_actor
    from tidegate.store._batches import BatchFigures, record_commit
    from tidegate.store._committed import new_batch_id
    from tidegate.store._staging import discard_staged, publishing

    actor = actor or default_actor()
    started = time.perf_counter()
    batch_key = f"sha256:{staged.content_sha256}"
    try:
        with publishing(store, contract, staged.stage_id, staged.held_rows) as pub:
            earlier = pub.committed(contract.source, batch_key)
            replaced: dict[str, Any] = {}
            if earlier is not None:
                if not reprocess:
                    return pub.skip(staged.location, batch_key, earlier, actor)
                replaced = {
                    "replaced_batch_id": earlier.batch_id,
                    "replaced_contract_version": earlier.contract_version,
                    **pub.replace(earlier),
                }
            rules = pub.find_batch_rules()
            finding = header_finding(staged.unknown_columns, staged.missing_columns)
            held = hold_reason(
                contract,
                staged.quarantined + rules.newly_failing,
                staged.rows_in,
                staged.missing_columns,
                len(contract.columns),
                finding,
            )
            if staged.unaccounted:  # a bug in the reader: never committed as it is
                held = f"{staged.unaccounted}; {held}" if held else staged.unaccounted
            judgement = _judge_whole_batch(pub, contract)
            held = with_judgement(held, judgement)
            updated = 0
            if held is None and contract.policy.on_existing_key == "update":
                updated = pub.update_existing_keys()
            elif held is None:
                pub.quarantine_existing_keys()
            if held or pub.has_findings():
                _rewrite_quarantine(pub, batch, staged, contract, held)
            failure_counts = pub.failure_counts()
            batch_id = new_batch_id(contract.source, batch_key)
            loaded, quarantined = pub.publish(
                batch_id=batch_id,
                load=held is None,
                location=staged.location,
                contract_version=contract.version,
                actor=actor,
            )
            figures = BatchFigures(
                source=contract.source,
                location=staged.location,
                batch_key=batch_key,
                rows_in=staged.rows_in,
                loaded=loaded,
                updated=updated,
                quarantined=quarantined,
                duplicates=rules.exact,
                duplicate_records=rules.exact_records,
                held=held,
                failure_counts=failure_counts,
                normalize_counts=staged.normalize_counts,
                unknown_columns=staged.unknown_columns,
                missing_columns=staged.missing_columns,
                header_finding=finding,
                duration_ms=staged.duration_ms + int((time.perf_counter() - started) * 1000),
                replaced=replaced,
                chunks=staged.chunks,
                lines=staged.lines,
                expectations=with_row_results(
                    judgement.summary if judgement else None,
                    contract,
                    failure_counts,
                    staged.rows_in,
                ),
                warnings=(judgement.warning,) if judgement and judgement.warning else (),
                shadow=staged.shadow.detail(staged.rows_in, rules.exact) if staged.shadow else None,
            )
            return record_commit(pub.con, figures, contract, batch_id, actor)
    except FileChangedError as exc:
        discard_staged(store, contract, staged.stage_id)
        return Deferred(contract.source, staged.location, exc.why).audited(store, actor)


def _judge_whole_batch(pub: Publication, contract: Contract) -> BatchJudgement | None:
    """The suite's batch expectations on the whole batch: every staged row that would
    load (passed its chunk's checks and the whole-batch rules), judged once all chunks are
    staged and before anything is published. This is the one step of a chunked batch
    whose memory grows with the file: the referenced columns of every loadable row are
    read back from the store at once (and copied to pandas for GX), about 8 bytes per
    numeric value twice over (a 100M-row file and one float column: some 1.6 GB), so a
    suite that reads few columns keeps it small; without batch expectations nothing is read."""
    suite = contract.expectations
    if suite is None or not suite.batch_expectations:
        return None
    return judge_batch(pub.loadable_columns(referenced_columns(contract)), contract)


def _record_range(chunk_records: pl.Series, rejects: tuple[Any, ...]) -> tuple[int, int] | None:
    numbers = [int(r.record) for r in rejects]
    if chunk_records.len():
        numbers += [int(chunk_records.min()), int(chunk_records.max())]  # type: ignore[arg-type]
    return (min(numbers), max(numbers)) if numbers else None


def _rewrite_quarantine(
    pub: Publication,
    batch: FileBatch,
    staged: StagedBatch,
    contract: Contract,
    held: str | None,
) -> None:
    """The second read: the quarantine entries of the rows a whole-batch rule moved
    (every row, for a held batch), written in place of what the first read staged."""
    if held:
        pub.clear_quarantine()
    for number, chunk in enumerate(batch.chunks()):
        span = _record_range(chunk.frame.get_column(RECORD_COLUMN), chunk.rejects)
        if span is None:
            continue
        findings = pub.findings_between(*span)
        if findings.is_empty() and not held:
            continue
        normalized = normalize(chunk.frame, contract)
        validated = validate(normalized.frame, contract)
        routed = route_chunk(
            chunk,
            normalized,
            validated,
            contract,
            findings=findings,
            repeats=pub.exact_between(*span) if held else None,
            held=held,
        )
        if held:
            pub.write_quarantine(routed.quarantine)
            _test_pause("second read", number)
            continue
        moved = findings.get_column("record").unique()
        rows = routed.quarantine.filter(pl.col("record").is_in(moved.implode()))
        pub.write_quarantine(rows, replacing=moved)
        _test_pause("second read", number)
    if batch.content_sha256 != staged.content_sha256:
        raise FileChangedError(staged.location, "its content differs from the first read")
