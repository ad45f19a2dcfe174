from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from helpers import query
from tidegate.audit import verify_chain
from tidegate.store import (
    GENESIS_HASH,
    Store,
    append_audit,
    canonical_json,
    ensure_store_tables,
    entry_hash,
    transaction,
)


def _store_with(store: Store, n: int) -> Store:
    for i in range(n):
        with transaction(store) as con:
            ensure_store_tables(con)
            append_audit(
                con,
                "batch_committed",
                {"i": i, "rows_in": i * 10},
                source="orders",
                batch_id=f"b{i}",
                actor="test",
            )
    return store


def test_chain_links_and_hashes(store: Store) -> None:
    _store_with(store, 3)
    rows = query(
        store,
        'SELECT seq, "at", actor, event, source, batch_id, detail, prev_hash, hash '
        "FROM audit ORDER BY seq",
    )
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][7] == GENESIS_HASH
    for prev, row in zip([None, *rows], rows, strict=False):
        if prev is not None:
            assert row[7] == prev[8]
        body = dict(
            zip(
                ["seq", "at", "actor", "event", "source", "batch_id", "detail"],
                row[:7],
                strict=True,
            )
        )
        assert row[8] == entry_hash(row[7], body)
    assert json.loads(rows[2][6]) == {"i": 2, "rows_in": 20}
    report = verify_chain(store)
    assert report.ok and report.entries == 3 and report.head_hash == rows[2][8]


def test_canonical_json_is_key_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical_json(
        {"a": [1, {"c": 3, "d": 2}], "b": 1}
    )


@pytest.mark.parametrize(
    ("mutation", "bad_seq"),
    [
        ('UPDATE audit SET detail = \'{"i":1,"rows_in":999}\' WHERE seq = 2', 2),
        ("UPDATE audit SET actor = 'mallory' WHERE seq = 3", 3),
        ("DELETE FROM audit WHERE seq = 2", 2),
        ("UPDATE audit SET seq = 9 WHERE seq = 1", 1),
        ("UPDATE audit SET hash = repeat('0', 64) WHERE seq = 4", 4),
    ],
)
def test_tampering_is_detected(tmp_path: Path, mutation: str, bad_seq: int) -> None:
    """DuckDB cannot refuse a rewrite of its own file, so verify must find it (the
    PostgreSQL store refuses these statements: tests/store/test_postgres_store.py)."""
    store = _store_with(tmp_path / "s.duckdb", 5)
    con = duckdb.connect(str(store))
    con.execute(mutation)
    con.close()
    report = verify_chain(store)
    assert not report.ok
    assert report.first_bad_seq == bad_seq


def test_empty_store_verifies(store: Store) -> None:
    with transaction(store) as con:
        ensure_store_tables(con)
    report = verify_chain(store)
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS_HASH


def test_transaction_rolls_back_on_error(store: Store) -> None:
    _store_with(store, 1)
    with pytest.raises(RuntimeError), transaction(store) as con:
        append_audit(con, "x", {}, actor="t")
        raise RuntimeError("boom")
    assert verify_chain(store).entries == 1
