"""A file whose every chunk is held finds its whole-batch rules in polars and takes its
monitor statistics from the frames in memory (:mod:`tidegate.store._held_rules`,
:mod:`tidegate.store._held_stats`): on randomized messy files, on both stores, it ends
exactly as the same file published with the rules and the statistics in SQL (the path
of a staged file, and of a held one whose hashes collide): same target rows, quarantine
entries, duplicates, checkpoint and audit counts, and the same profile (distinct counts
exact at this size, means and spreads up to rounding)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from engine.sliced import sliced
from tidegate import MemorySource, contract_from_dict
from tidegate.batches import RawBatch
from tidegate.engine import ingest_batch
from tidegate.store import (
    Store,
    _held_rules,
    _held_stats,
    _staging,
    open_store,
    read_audit,
    transaction,
)


def contract(**policy: Any) -> Any:
    return contract_from_dict(
        {
            "source": "orders",
            "version": 1,
            "primary_key": ["id", "part"],
            "columns": {
                "id": {"type": "int64"},
                "part": {"type": "string"},  # a key column: null fails its row's checks
                "amount": {"type": "float64", "checks": [{"ge": 0}]},
                "price": {"type": "decimal(8,2)"},
                "code": {"type": "string", "unique": True},
                "status": {"type": "string", "checks": [{"isin": ["new", "paid"]}]},
                "day": {"type": "date"},
                "email": {"type": "string", "pii": True},
            },
            "policy": {"max_quarantine_ratio": 1.0, **policy},
        }
    )


def messy_records(seed: int, n: int) -> list[dict[str, str | None]]:
    """Keys drawn from a small range (repeats near and far, exact and not), codes from
    a small pool (``unique`` repeated within and across chunks), failures and nulls."""
    rng = random.Random(seed)
    rows: list[dict[str, str | None]] = []
    for _ in range(n):
        if rows and rng.random() < 0.15:
            rows.append(dict(rng.choice(rows)))  # an exact repeat
            continue
        rows.append(
            {
                "id": str(rng.randint(1, n)),
                "part": rng.choice(["a", "b", "b", None]),
                "amount": rng.choice(["-1", "0", "2.5", "-0.0", *(["1.125"] * 6)]),
                "price": rng.choice(["1.10", "2", None, "0"]),
                "code": rng.choice([None] * n + [f"c{i}" for i in range(n)]),
                "status": rng.choice(["new", "paid"] * 4 + ["lost"]),
                "day": rng.choice(["2024-01-02", "2024-02-29", None]),
                "email": rng.choice([f"u{rng.randint(1, 9)}@x.io", None]),
            }
        )
    return rows


def raw_batch(rows: list[dict[str, str | None]]) -> RawBatch:
    (raw,) = MemorySource.from_records("orders", rows, location="orders.csv").read()
    assert isinstance(raw, RawBatch)
    return raw


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a publication writes, without batch ids and times."""
    with transaction(store) as con:
        target = con.execute(
            "SELECT id, part, amount, price, code, status, day, email, _tidegate_record "
            "FROM orders ORDER BY _tidegate_record"
        ).fetchall()
        quarantine = con.execute(
            "SELECT record, raw, normalized, errors, rules, status FROM quarantine "
            "ORDER BY record, raw, errors"
        ).fetchall()
        duplicates = con.execute(
            "SELECT record, first_record, key_values, row_hash FROM duplicates ORDER BY record"
        ).fetchall()
        checkpoints = con.execute(
            "SELECT rows_in, loaded, quarantined, duplicates, status FROM checkpoints "
            "ORDER BY committed_at"
        ).fetchall()
        profiles = con.execute('SELECT profile FROM profiles ORDER BY "at"').fetchall()
        audit = read_audit(con)
    details = []
    for entry in audit:
        detail = json.loads(entry.detail)
        details.append(
            (entry.event, {k: detail.get(k) for k in ("failure_counts", "duplicates", "loaded")})
        )
    return {
        "target": sorted(tuple(str(v) for v in r) for r in target),  # two batches
        "quarantine": sorted(tuple(str(v) for v in r) for r in quarantine),
        "duplicates": sorted(duplicates),
        "checkpoints": checkpoints,
        "profiles": [_rounded(json.loads(text)) for (text,) in profiles],
        "audit": details,
    }


@pytest.fixture
def in_sql(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Within the block, held batches find their rules and statistics in SQL."""
    from contextlib import contextmanager

    @contextmanager
    def block() -> Any:
        with monkeypatch.context() as m:
            m.setattr(_staging, "held_batch_rules", lambda frames, c: None)
            m.setattr(_staging, "held_loaded_stats", lambda *args: None)
            yield

    return block


def _steps(store: Store, seed: int, chunk_rows: int, policy: str) -> None:
    c = contract(on_existing_key=policy)
    first = raw_batch(messy_records(seed, 60))
    again = raw_batch(messy_records(seed + 1000, 60))  # keys overlap the first file's
    ingest_batch(store, sliced(first, chunk_rows), c)
    ingest_batch(store, sliced(again, chunk_rows), c)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_held_rules_in_polars_equal_the_sql(
    store: Store, seed: int, tmp_path: Path, in_sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = "update" if seed % 2 else "quarantine"
    chunk_rows = 9 + seed  # under WRITE_CHUNKS chunks: every chunk held
    found = []
    rules = _staging.held_batch_rules

    def spy(frames: Any, c: Any) -> Any:
        found.append(rules(frames, c))
        return found[-1]

    monkeypatch.setattr(_staging, "held_batch_rules", spy)
    _steps(store, seed, chunk_rows, policy)
    assert len(found) == 2 and all(f is not None for f in found)  # in polars
    ref = open_store(tmp_path / "sql.duckdb")
    with in_sql():
        _steps(ref, seed, chunk_rows, policy)
    got, want = snapshot(store), snapshot(ref)
    assert got["checkpoints"] and got["duplicates"]  # the rules had something to find
    assert got == want


def test_a_hash_collision_leaves_the_rules_to_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_sql: Any
) -> None:
    """Every value hashed alike: the collision is caught, and SQL finds the rules."""
    called: list[bool] = []

    def collide(columns: list[str]) -> pl.Expr:
        called.append(True)
        return pl.lit(7, pl.UInt64)

    ref = open_store(tmp_path / "sql.duckdb")
    with in_sql():
        _steps(ref, 4, 10, "quarantine")
    monkeypatch.setattr(_held_rules, "_hashed", collide)
    store = open_store(tmp_path / "collide.duckdb")
    _steps(store, 4, 10, "quarantine")
    assert called and snapshot(store) == snapshot(ref)


def test_the_monitor_takes_the_held_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held batch's statistics are kept for its monitor step, which reads nothing
    back from the target, and are forgotten once taken."""
    kept: list[str] = []
    remember = _held_stats.remember_loaded_stats

    def spy(batch_id: str, c: Any, stats: Any) -> None:
        kept.append(batch_id)
        remember(batch_id, c, stats)

    monkeypatch.setattr(_staging, "remember_loaded_stats", spy)
    store = open_store(tmp_path / "t.duckdb")
    outcome = ingest_batch(store, sliced(raw_batch(messy_records(5, 60)), 9), contract())
    assert kept == [outcome.batch_id]
    assert _held_stats.take_loaded_stats(outcome.batch_id, {"email"}) is None  # taken
