"""A file staged in chunks and published in one transaction ends exactly as the same
records committed in one piece: same target rows, same quarantine entries (same record
numbers, same errors), same audit counts, on both stores, whatever the chunk size.

The chunks come from :class:`SlicedBatch` (a RawBatch sliced in memory) so that the
engine is tested apart from the file readers; tests/e2e test files read from disk.

Every test runs twice: with every chunk staged in the store, and with every chunk held
in memory until the publication (the default for a file whose routed rows fit
``WRITE_BYTES``); one test mixes the two.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.sliced import SlicedBatch, sliced
from tidegate import MemorySource, contract_from_dict
from tidegate.batches import RawBatch, RecordReject
from tidegate.engine import _chunked, ingest_batch
from tidegate.store import Store, read_audit, transaction
from tidegate.store._staging import QUARANTINE_STAGING, staging_table

CHUNK_ROWS = (1, 7)


@pytest.fixture(autouse=True, params=["staged", "held"])
def write_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``staged``: every chunk written to the staging tables as it is routed (a file
    larger than ``WRITE_BYTES``); ``held``: every chunk held in memory and published
    from there (a file that fits)."""
    if request.param == "staged":
        monkeypatch.setattr(_chunked, "WRITE_BYTES", 1)
    return str(request.param)


def count_rows(con: Any, table: str) -> int:
    """Rows in ``table``; 0 when it was never made (nothing of the store was written)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    names = {n for (n,) in rows}
    return (
        int(con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
        if table in names
        else 0
    )


def contract(**policy: Any) -> Any:
    return contract_from_dict(
        {
            "source": "orders",
            "version": 1,
            "primary_key": ["id"],
            "columns": {
                "id": {"type": "int64"},
                "amount": {"type": "float64", "checks": [{"ge": 0}]},
                "code": {"type": "string", "unique": True, "nullable": True},
                "status": {"type": "string", "checks": [{"isin": ["new", "paid"]}]},
            },
            "policy": {"max_quarantine_ratio": 1.0, **policy},
        }
    )


def records(n: int = 40) -> list[dict[str, str | None]]:
    """Messy rows: failures, exact repeats and conflicting repeats of a key far apart,
    a `unique` code repeated across the file, nulls."""
    rows: list[dict[str, str | None]] = []
    for i in range(1, n + 1):
        rows.append(
            {
                "id": str(i),
                "amount": "-1" if i % 9 == 0 else f"{i}.5",
                "code": None if i % 4 == 0 else f"c{i}",
                "status": "lost" if i % 11 == 0 else ("new" if i % 2 else "paid"),
            }
        )
    rows.append(dict(rows[3]))  # an exact repeat of record 4, at the end
    rows.append({**rows[7], "amount": "99"})  # key 8 again with other values
    rows.append({"id": "500", "amount": "1", "code": "c5", "status": "new"})  # code c5 again
    rows.append({"id": "x", "amount": "1", "code": None, "status": "new"})
    rows.append(dict(rows[11]))  # record 12 twice more: both exact
    rows.append(dict(rows[11]))
    return rows


def raw_batch(
    rows: list[dict[str, str | None]], rejects: tuple[RecordReject, ...] = ()
) -> RawBatch:
    (raw,) = MemorySource.from_records("orders", rows, location="orders.csv").read()
    assert isinstance(raw, RawBatch)
    if rejects:  # records that could not be split, numbered after the parsed ones
        from dataclasses import replace

        raw = replace(raw, rejects=rejects)
    return raw


def snapshot(store: Store) -> dict[str, Any]:
    with transaction(store) as con:
        target = con.execute(
            "SELECT id, amount, code, status, _tidegate_record FROM orders "
            "ORDER BY _tidegate_record"
        ).fetchall()
        quarantine = con.execute(
            "SELECT record, raw, normalized, errors, rules, status FROM quarantine "
            "ORDER BY record, raw, errors"
        ).fetchall()
        checkpoints = con.execute(
            "SELECT rows_in, loaded, quarantined, duplicates, status FROM checkpoints "
            "ORDER BY committed_at"
        ).fetchall()
        names = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        staging = {staging_table(contract()), QUARANTINE_STAGING} & {n for (n,) in names}
        left = [con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in staging]
        audit = read_audit(con)
    entries = []
    for entry in audit:
        detail = {
            k: v
            for k, v in json.loads(entry.detail).items()
            if k not in ("duration_ms", "chunks", "committed_batch_id", "replaced_batch_id")
        }
        if isinstance(detail.get("reprocess"), dict):
            detail["reprocess"] = {
                k: v for k, v in detail["reprocess"].items() if k != "replaced_batch_id"
            }
        entries.append((entry.event, json.dumps(detail, sort_keys=True)))
    assert not any(left), "staged rows left behind"
    assert not staged_files(store), "staged files left behind"
    return {
        "target": [tuple(str(v) for v in r) for r in target],
        "quarantine": [tuple(str(v) for v in r) for r in quarantine],
        "checkpoints": checkpoints,
        "audit": entries,
    }


def staged_files(store: Store) -> list[Path]:
    """The Parquet files a DuckDB store's stages left beside it (none on PostgreSQL)."""
    from tidegate.store import DuckDBStore

    if not isinstance(store, DuckDBStore):
        return []
    return sorted(Path(f"{store.path}.staged").glob("**/*.parquet*"))


def ingest_whole(store: Store, raw: RawBatch, c: Any, **kw: Any) -> Any:
    return ingest_batch(store, raw, c, **kw)


@pytest.fixture
def reference(tmp_path: Path) -> Any:
    """The same records committed in one piece (the in-memory path), on DuckDB."""
    from tidegate import open_store

    def run(steps: list[tuple[RawBatch, dict[str, Any]]], c: Any) -> dict[str, Any]:
        ref = open_store(tmp_path / f"ref-{len(list(tmp_path.iterdir()))}.duckdb")
        for raw, kw in steps:
            ingest_batch(ref, raw, c, **kw)
        return snapshot(ref)

    return run


@pytest.mark.parametrize("rows", CHUNK_ROWS)
def test_chunked_equals_one_piece(store: Store, rows: int, reference: Any) -> None:
    c = contract()
    rejects = (RecordReject(60, "a,b", "ragged row: 2 fields, header has 4"),)
    raw = raw_batch(records(), rejects)
    outcome = ingest_batch(store, sliced(raw, rows), c)
    assert outcome.event == "batch_committed"
    assert outcome.rows_in == outcome.loaded + outcome.quarantined + outcome.duplicates
    assert outcome.duplicates == 3  # record 4 once, record 12 twice, across chunks
    assert outcome.failure_counts["_row.duplicate_key"] == 1
    assert outcome.failure_counts["code.unique"] == 2  # c5 at record 5 and 43
    assert snapshot(store) == reference([(raw, {})], c)


@pytest.mark.parametrize("rows", (1,))
def test_a_held_batch_of_many_chunks_loads_nothing(store: Store, rows: int, reference: Any) -> None:
    c = contract(max_quarantine_ratio=0.05)
    raw = raw_batch(records())
    outcome = ingest_batch(store, sliced(raw, rows), c)
    assert outcome.event == "batch_held" and outcome.loaded == 0
    assert outcome.quarantined == outcome.rows_in - outcome.duplicates
    got = snapshot(store)
    assert got["target"] == []
    assert all("_batch.held" in q[4] for q in got["quarantine"])
    assert got == reference([(raw, {})], c)


@pytest.mark.parametrize("policy", ["update", "quarantine"])
@pytest.mark.parametrize("rows", (3,))
def test_existing_keys_and_reprocess_across_chunks(
    store: Store, rows: int, policy: str, reference: Any
) -> None:
    c = contract(on_existing_key=policy)
    first = raw_batch(records(20))
    again = raw_batch([{**r, "amount": "3.25"} for r in records(30)])
    ingest_batch(store, sliced(first, rows), c)
    second = ingest_batch(store, sliced(again, rows), c)
    if policy == "update":
        assert second.updated > 0
    else:
        assert second.failure_counts.get("_row.existing_key", 0) > 0
    skipped = ingest_batch(store, sliced(again, rows), c)
    assert skipped.event == "batch_skipped"
    redone = ingest_batch(store, sliced(again, rows), c, reprocess=True)
    assert redone.event == "batch_reprocessed"
    assert snapshot(store) == reference(
        [(first, {}), (again, {}), (again, {}), (again, {"reprocess": True})], c
    )


def test_a_key_in_chunk_1_and_chunk_90_is_a_repeat(store: Store) -> None:
    rows = [{"id": str(i), "amount": "1", "code": None, "status": "new"} for i in range(1, 901)]
    rows.append({"id": "1", "amount": "2", "code": None, "status": "new"})
    outcome = ingest_batch(store, sliced(raw_batch(rows), 10), contract())
    assert outcome.failure_counts == {"_row.duplicate_key": 1}
    got = snapshot(store)
    assert len(got["target"]) == 900
    (entry,) = got["quarantine"]
    assert entry[0] == "901" and "already seen at record 1 of this batch" in entry[3]


def test_a_file_that_changes_between_reads_publishes_nothing(store: Store) -> None:
    c = contract(max_quarantine_ratio=0.01)  # held: the second read rewrites every entry
    batch = SlicedBatch(raw_batch(records()), 4, change_on_read=2)
    outcome = ingest_batch(store, batch, c)
    assert outcome.event == "batch_deferred"
    assert "file changed while read" in (outcome.reason or "")
    assert "will be read on the next run" in (outcome.reason or "")
    assert batch.reads == 2
    with transaction(store) as con:
        assert count_rows(con, "quarantine") == 0
        assert count_rows(con, "checkpoints") == 0
        assert count_rows(con, QUARANTINE_STAGING) == 0
        assert count_rows(con, staging_table(c)) == 0
        events = con.execute("SELECT event FROM audit").fetchall()
    assert events == [("batch_deferred",)] and outcome.audit_seq  # audited, nothing else


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def profiles(store: Store) -> list[Any]:
    with transaction(store) as con:
        rows = con.execute('SELECT profile FROM profiles ORDER BY "at"').fetchall()
    return [_rounded(json.loads(text)) for (text,) in rows]


@pytest.mark.parametrize("rows", (4,))
def test_the_monitor_profile_is_the_same_in_chunks(store: Store, rows: int, tmp_path: Path) -> None:
    """Computed chunk by chunk plus one aggregate over the loaded rows, the profile is
    the one a batch routed in one piece gets: counts, null rates, means, spreads, top
    values, and an unknown column (``promo``) profiled from its raw text."""
    from tidegate import open_store

    c = contract()
    rows_ = [{**r, "promo": "X" if i % 3 else None} for i, r in enumerate(records())]
    raw = raw_batch(rows_)
    ingest_batch(store, sliced(raw, rows), c)
    ref = open_store(tmp_path / "ref.duckdb")
    ingest_batch(ref, raw, c)
    (got,), (want,) = profiles(store), profiles(ref)
    assert got["columns"]["promo"]["unknown"] is True
    assert got["columns"]["amount"]["kind"] == "numeric" and got["columns"]["amount"]["count"]
    assert got == want


def test_a_large_batch_aggregates_in_parts_with_the_same_result(
    tmp_path: Path, reference: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``PARTITION_ROWS`` staged rows, DuckDB runs the batch's aggregates (repeated
    keys, `unique` across chunks, distinct counts and top values) in parts by a hash of
    the value, to stay within its memory cap; the parts add up to the same result."""
    from tidegate import open_store
    from tidegate.store import _tables

    monkeypatch.setattr(_tables, "PARTITION_ROWS", 7)  # 46 rows: 7 parts
    c = contract()
    raw = raw_batch([{**r, "promo": "X" if i % 3 else None} for i, r in enumerate(records())])
    store = open_store(tmp_path / "parts.duckdb")
    outcome = ingest_batch(store, sliced(raw, 5), c)
    assert outcome.duplicates == 3 and outcome.failure_counts["code.unique"] == 2
    ref = open_store(tmp_path / "whole.duckdb")
    ingest_batch(ref, raw, c)
    assert snapshot(store) == snapshot(ref)
    assert profiles(store) == profiles(ref)
    for policy in ("update", "quarantine"):  # keys already in the target, in parts too
        again = raw_batch(
            [{**r, "amount": "2.5" if policy == "update" else "3.5"} for r in records(30)]
        )
        c2 = contract(on_existing_key=policy)
        ingest_batch(store, sliced(again, 5), c2)
        ingest_batch(ref, again, c2)
        assert snapshot(store) == snapshot(ref)


def _spy_writes(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the chunks staged in the store and the chunks held in memory."""
    from tidegate.store import _held_chunks, _staging

    seen = {"staged": 0, "held": 0}
    stage_chunks, hold_chunks = _staging.stage_chunks, _held_chunks.hold_chunks

    def staging(*args: Any, **kw: Any) -> None:
        seen["staged"] += len(args[3])
        stage_chunks(*args, **kw)

    def holding(source: str, stage_id: str, chunks: Any) -> int:
        seen["held"] += len(chunks)
        return hold_chunks(source, stage_id, chunks)

    monkeypatch.setattr(_staging, "stage_chunks", staging)
    monkeypatch.setattr(_held_chunks, "hold_chunks", holding)
    return seen


def test_a_file_that_fits_is_held_not_staged(
    store: Store, write_mode: str, reference: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``WRITE_BYTES`` and ``WRITE_CHUNKS`` nothing goes through the staging
    tables: the chunks are held and published straight into the target (one write, not
    two)."""
    seen = _spy_writes(monkeypatch)
    raw = raw_batch(records())
    outcome = ingest_batch(store, sliced(raw, 7), contract())
    assert outcome.event == "batch_committed" and outcome.duplicates == 3
    chunks = 7  # 46 records, 7 a chunk
    if write_mode == "held":
        assert seen == {"staged": 0, "held": chunks}
    else:
        assert seen == {"staged": chunks, "held": 0}
    assert snapshot(store) == reference([(raw, {})], contract())


@pytest.mark.parametrize("write_mode", ["held"], indirect=True)  # it mixes the two itself
@pytest.mark.parametrize("policy", [{}, {"max_quarantine_ratio": 0.05}])
def test_staged_chunks_and_held_chunks_publish_as_one_batch(
    store: Store, write_mode: str, reference: Any, monkeypatch: pytest.MonkeyPatch, policy: Any
) -> None:
    """The first chunks staged (``WRITE_CHUNKS`` at a time), the last one held: one batch,
    the same as in one piece (a repeat across the two, a held batch's second read)."""
    assert write_mode == "held"
    monkeypatch.setattr(_chunked, "WRITE_CHUNKS", 5)  # 16 chunks: 3 writes, 1 held
    seen = _spy_writes(monkeypatch)
    raw = raw_batch(records())
    c = contract(**policy)
    outcome = ingest_batch(store, sliced(raw, 3), c)
    assert outcome.rows_in == outcome.loaded + outcome.quarantined + outcome.duplicates
    assert seen == {"staged": 15, "held": 1}
    assert snapshot(store) == reference([(raw, {})], c)


def test_a_publication_missing_its_held_rows_is_refused(store: Store, write_mode: str) -> None:
    """Held rows live in the process that read the file: a publication elsewhere (or
    after they were discarded) fails loudly instead of publishing the batch without them."""
    from tidegate.store._staging import new_stage_id, publishing

    refused = pytest.raises(RuntimeError, match="in the process that staged it")
    with refused, publishing(store, contract(), new_stage_id(), held_rows=5):
        pass


@pytest.mark.parametrize("write_mode", ["staged"], indirect=True)
def test_what_a_run_staged_and_never_published_is_deleted_by_the_next_run(
    store: Store, write_mode: str, reference: Any
) -> None:
    """Chunks staged and never published (a run killed before its publication) are
    invisible, and the source's next run deletes them (the staged rows and, on DuckDB,
    the staged files) before it publishes its own batch, the same as in one piece."""
    from tidegate.store import DuckDBStore
    from tidegate.store._staging import clear_staging

    c = contract()
    raw = raw_batch(records())
    staged = _chunked.stage(store, sliced(raw, 7), c)
    assert isinstance(staged, _chunked.StagedBatch) and staged.held_rows == 0
    assert bool(staged_files(store)) == isinstance(store, DuckDBStore)
    with transaction(store) as con:
        assert count_rows(con, "orders") == 0 and count_rows(con, "checkpoints") == 0
    clear_staging(store, c)
    assert not staged_files(store)
    outcome = ingest_batch(store, sliced(raw, 7), c)
    assert outcome.event == "batch_committed" and outcome.duplicates == 3
    assert snapshot(store) == reference([(raw, {})], c)
