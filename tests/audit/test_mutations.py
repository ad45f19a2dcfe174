"""Tampering with the audit log is detected: thousands of random single-row mutations.

The chain comes from a store built by real flow runs and review actions (conftest).
Each trial mutates one copy of it in one way and checks that it is caught:

* edit one field of one entry, delete one entry, swap two entries (with or without
  swapping their seq values), move one entry and renumber the seqs, insert a forged
  entry whose own hash is computed correctly: ``verify_entries`` alone names a bad
  seq, at (or, for an insertion, just after) the tampered position;
* cut off the newest entries, or rewrite an entry and recompute every hash after it
  (an internally consistent chain): the comparison with a checkpoint taken before
  the tampering fails.

What no chain can show is a well-formed entry *appended* after the head: the entries'
signatures show that one (tests/audit/test_signing.py); here a rewritten entry keeps a
signature of its old hash, so `verify_chain` (chain and signatures) names it too.

Most trials run on in-memory entries (fast); a smaller set runs through real SQL on
copies of the DuckDB file and the real ``tidegate audit verify`` command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tidegate.audit import (
    make_checkpoint,
    verify_against,
    verify_chain,
    verify_entries,
    verify_store_against,
)
from tidegate.cli import app
from tidegate.store import GENESIS_HASH, AuditEntry, canonical_json, connect, entry_hash, read_audit

pytestmark = pytest.mark.e2e
SEED = int(os.environ.get("TIDEGATE_MUTATION_SEED", "20261124"))
TRIALS = int(os.environ.get("TIDEGATE_MUTATION_TRIALS", "10000"))
FIELDS = ("seq", "at", "actor", "event", "source", "batch_id", "detail", "prev_hash", "hash")
BODY_FIELDS = ("at", "actor", "event", "source", "batch_id", "detail")
Chain = list[AuditEntry]


@pytest.fixture(scope="module")
def chain(duckdb_audit_store: Path) -> Chain:
    with connect(duckdb_audit_store, read_only=True) as con:
        entries = read_audit(con)
    assert len(entries) >= 24, "the mutation test needs a few dozen real entries"
    assert verify_entries(entries).ok
    return entries


def _other_value(rng: random.Random, chain: Chain, field: str, old: object) -> object:
    """A value for ``field`` that differs from ``old``: plausible, swapped-in or malformed."""
    pool = {getattr(e, field) for e in chain} - {old}
    while True:
        pick = rng.randrange(4)
        if pick == 0 and pool:
            new = rng.choice(sorted(pool, key=str))  # another entry's value
        elif field == "seq":
            new = int(old) + rng.choice([-2, -1, 1, 2, 1000])  # type: ignore[call-overload]
        elif field in ("prev_hash", "hash"):
            text, i = str(old), rng.randrange(64)
            new = text[:i] + rng.choice("0123456789abcdef".replace(text[i], "")) + text[i + 1 :]
            new = new if pick != 2 else GENESIS_HASH
        elif field == "detail":
            detail = json.loads(str(old))
            if pick == 1 and detail:
                key = rng.choice(sorted(detail))
                detail[key] = rng.choice([0, 1, None, "x", [], {"forged": True}])
                new = canonical_json(detail)
            elif pick == 2:
                new = json.dumps(detail, indent=1)  # same content, not canonical text
            else:
                new = canonical_json({**detail, "note": "edited"})
        elif field == "at":
            micro = int(str(old)[20:26])
            new = f"{str(old)[:20]}{(micro + rng.randint(1, 999)) % 10**6:06d}Z"
        else:
            nullable = field in ("source", "batch_id")  # the others are NOT NULL in the table
            new = rng.choice([None if nullable else "", f"{old}x", "mallory", str(old).upper()])
        if new != old:
            return new


def _rehash_from(entries: Chain, start: int) -> Chain:
    """Renumber from ``start`` and recompute every hash after it (a careful forger)."""
    out = entries[:start]
    prev = out[-1].hash if out else GENESIS_HASH
    for i, e in enumerate(entries[start:], start=start):
        body = {**e.body(), "seq": i + 1}
        fixed = AuditEntry(**body, prev_hash=prev, hash=entry_hash(prev, body))
        out.append(fixed)
        prev = fixed.hash
    return out


def _forged(rng: random.Random, chain: Chain, seq: int, prev: str) -> AuditEntry:
    model = rng.choice(chain)
    body = {**model.body(), "seq": seq, "actor": "mallory", "detail": canonical_json({"x": 1})}
    return AuditEntry(**body, prev_hash=prev, hash=entry_hash(prev, body))


# Each mutation returns (mutated chain, 1-based seqs where the break may be named),
# an empty tuple meaning "only a checkpoint can see this one".
Mutation = Callable[[random.Random, Chain], tuple[Chain, tuple[int, ...]]]


def edit_field(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    p, field = rng.randrange(len(chain)), rng.choice(FIELDS)
    new = _other_value(rng, chain, field, getattr(chain[p], field))
    out = list(chain)
    out[p] = dataclasses.replace(chain[p], **{field: new})
    return out, (p + 1,)


def delete_one(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    p = rng.randrange(len(chain) - 1)  # the head alone is tail truncation, below
    return chain[:p] + chain[p + 1 :], (p + 1,)


def swap_two(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    i, j = sorted(rng.sample(range(len(chain)), 2))
    out = list(chain)
    if rng.random() < 0.5:
        out[i], out[j] = chain[j], chain[i]  # rows change places, seqs travel with them
    else:  # and swap the seq values too, so the seqs still read 1..n
        out[i] = dataclasses.replace(chain[j], seq=chain[i].seq)
        out[j] = dataclasses.replace(chain[i], seq=chain[j].seq)
    return out, (i + 1,)


def move_one(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    i, j = rng.sample(range(len(chain)), 2)
    out = list(chain)
    out.insert(j, out.pop(i))
    out = [dataclasses.replace(e, seq=n) for n, e in enumerate(out, start=1)]  # renumbered
    return out, (min(i, j) + 1,)


def insert_forged(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    p = rng.randrange(len(chain))  # before an existing entry; after the head is an append
    prev = chain[p - 1].hash if p else GENESIS_HASH
    out = [*chain[:p], _forged(rng, chain, p + 1, prev), *chain[p:]]
    if rng.random() < 0.5:  # the forger also renumbers what follows (cannot rehash it)
        out = out[: p + 1] + [dataclasses.replace(e, seq=e.seq + 1) for e in out[p + 1 :]]
    return out, (p + 1, p + 2)


def truncate_tail(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    return chain[: len(chain) - rng.randint(1, 3)], ()


def rewrite_and_rehash(rng: random.Random, chain: Chain) -> tuple[Chain, tuple[int, ...]]:
    p = rng.randrange(len(chain))
    out = list(chain)
    if rng.random() < 0.7:
        field = rng.choice(BODY_FIELDS)
        out[p] = dataclasses.replace(
            chain[p], **{field: _other_value(rng, chain, field, getattr(chain[p], field))}
        )
    else:
        del out[p]
    return _rehash_from(out, p), ()


MUTATIONS: list[Mutation] = [
    edit_field,
    delete_one,
    swap_two,
    move_one,
    insert_forged,
    truncate_tail,
    rewrite_and_rehash,
]


def test_every_random_mutation_is_detected(chain: Chain) -> None:
    rng = random.Random(SEED)
    checkpoint = make_checkpoint(Path("in-memory"), chain)
    seen = dict.fromkeys((m.__name__ for m in MUTATIONS), 0)
    for trial in range(TRIALS):
        mutation = MUTATIONS[trial % len(MUTATIONS)]
        mutated, where = mutation(rng, chain)
        assert mutated != chain
        report = verify_entries(mutated)
        context = f"trial {trial} (seed {SEED}): {mutation.__name__}"
        if where:
            assert not report.ok, f"{context} went unnoticed"
            assert report.first_bad_seq in where, f"{context}: named {report.first_bad_seq}"
            assert report.reason
        else:
            assert report.ok, f"{context}: expected a self-consistent chain"
            against = verify_against(mutated, checkpoint)
            assert not against.ok and against.problem, f"{context} passed the checkpoint"
        seen[mutation.__name__] += 1
    assert min(seen.values()) >= TRIALS // len(MUTATIONS)
    assert verify_against(chain, checkpoint).ok  # and the untouched chain passes


def test_an_append_after_the_checkpoint_is_accepted(chain: Chain) -> None:
    """The honest case: new entries after a checkpoint extend it."""
    checkpoint = make_checkpoint(Path("in-memory"), chain[:-5])
    assert verify_against(chain, checkpoint).ok


# ---- the same, through real SQL on copies of the DuckDB file -------------------------

SQL_TRIALS = int(os.environ.get("TIDEGATE_MUTATION_SQL_TRIALS", "42"))


def _set_seq(con: duckdb.DuckDBPyConnection, moves: dict[int, int]) -> None:
    """Move seq values one at a time through free numbers (seq is the primary key)."""
    for old in moves:
        con.execute("UPDATE audit SET seq = ? WHERE seq = ?", [-old, old])
    for old, new in moves.items():
        con.execute("UPDATE audit SET seq = ? WHERE seq = ?", [new, -old])


def _write_chain(con: duckdb.DuckDBPyConnection, entries: Chain) -> None:
    con.execute("DELETE FROM audit")
    con.executemany(
        'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, prev_hash, hash) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[getattr(e, f) for f in FIELDS] for e in entries],
    )


def sql_edit(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    p, field = rng.randrange(len(chain)), rng.choice(FIELDS)
    if field == "seq":
        _set_seq(con, {chain[p].seq: len(chain) + rng.randint(1, 9)})
        return
    new = _other_value(rng, chain, field, getattr(chain[p], field))
    con.execute(f'UPDATE audit SET "{field}" = ? WHERE seq = ?', [new, chain[p].seq])


def sql_delete(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    con.execute("DELETE FROM audit WHERE seq = ?", [rng.randint(1, len(chain))])


def sql_swap(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    i, j = rng.sample(range(1, len(chain) + 1), 2)
    _set_seq(con, {i: j, j: i})


def sql_insert(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    p = rng.randrange(len(chain))
    _set_seq(con, {e.seq: e.seq + 1 for e in chain[p:]})
    prev = chain[p - 1].hash if p else GENESIS_HASH
    _write_chain(con, [*chain[:p], _forged(rng, chain, p + 1, prev)])
    con.executemany(
        'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, prev_hash, hash) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[e.seq + 1 if f == "seq" else getattr(e, f) for f in FIELDS] for e in chain[p:]],
    )


def sql_truncate(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    con.execute("DELETE FROM audit WHERE seq > ?", [len(chain) - rng.randint(1, 3)])


def sql_rewrite(rng: random.Random, con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    mutated, _ = rewrite_and_rehash(rng, chain)
    _write_chain(con, mutated)


SQL_MUTATIONS = [sql_edit, sql_delete, sql_swap, sql_insert, sql_truncate, sql_rewrite]


def test_mutations_through_sql_are_detected(
    duckdb_audit_store: Path, chain: Chain, tmp_path: Path
) -> None:
    checkpoint_file = tmp_path / "checkpoint.json"
    result = CliRunner().invoke(
        app, ["audit", "checkpoint", "-o", str(checkpoint_file), "--store", str(duckdb_audit_store)]
    )
    assert result.exit_code == 0, result.output
    from tidegate.audit import read_checkpoint

    checkpoint = read_checkpoint(checkpoint_file)
    rng = random.Random(SEED)
    for trial in range(SQL_TRIALS):
        mutation = SQL_MUTATIONS[trial % len(SQL_MUTATIONS)]
        copy = tmp_path / f"trial{trial}.duckdb"
        shutil.copy(duckdb_audit_store, copy)
        con = duckdb.connect(str(copy))
        try:
            mutation(rng, con, chain)
        finally:
            con.close()
        context = f"trial {trial} (seed {SEED}): {mutation.__name__}"
        chain_ok = verify_chain(copy).ok
        assert not chain_ok or mutation in (sql_truncate, sql_rewrite), f"{context} unnoticed"
        assert not verify_store_against(copy, checkpoint).ok, f"{context} passed the checkpoint"
        if trial < len(SQL_MUTATIONS):  # and the command says so, once per kind
            cli = CliRunner().invoke(
                app,
                ["audit", "verify", "--store", str(copy), "--against", str(checkpoint_file)],
            )
            assert cli.exit_code == 1, f"{context}: {cli.output}"
            assert any(
                said in cli.output
                for said in ("broken at seq", "signature bad at seq", "does not match checkpoint")
            ), cli.output
        copy.unlink()
