"""Signed audit entries: what database access alone can no longer forge, on both stores.

Each test has a signing key of its own (``TIDEGATE_AUDIT_KEY`` in tmp_path), so a
rotation never touches the session's key. The attacker writes with plain SQL, as
someone with write access to the database (not the key) would.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from helpers import query, scalar
from signing_support import append, attacker, forge, key_id_or_none, raw, record, runner, verify
from store_backends import store_arg
from tidegate.audit import verify_chain
from tidegate.cli import app
from tidegate.store import (
    GENESIS_HASH,
    PostgresStore,
    Store,
    connect,
    entry_hash,
    read_audit,
)
from tidegate.store._audit_signer import AuditSigner, key_id_of, read_key_file


def test_a_real_run_signs_every_entry(demo_copy: Store) -> None:
    with connect(demo_copy, read_only=True) as con:
        entries = read_audit(con)
    local = read_key_file(Path(__import__("os").environ["TIDEGATE_HOME"]) / "audit-signing.key")
    assert local is not None and len(entries) >= 6
    assert {e.key_id for e in entries} == {local.key_id}
    assert all(e.signature for e in entries)
    keys = query(demo_copy, "SELECT key_id, public_key FROM audit_keys")
    assert keys == [(local.key_id, local.public_b64)]
    report = verify_chain(demo_copy)
    assert report.ok and report.signatures is not None
    assert report.signatures.signed == len(entries) and report.signatures.unsigned_before == 0
    assert "local key file" in report.signatures.trust
    code, out = verify(demo_copy)
    assert code == 0 and f"{len(entries)} signatures good" in out


def test_new_key_is_made_once_with_mode_0600(store: Store, key_file: Path) -> None:
    assert not key_file.exists()
    append(store, 2)
    assert key_file.stat().st_mode & 0o777 == 0o600
    signer = read_key_file(key_file)
    assert signer is not None
    append(store, 1, start=3)
    assert (
        key_id_or_none(read_key_file(key_file)) == signer.key_id
    )  # the same key, not a second one
    assert [r[0] for r in query(store, "SELECT key_id FROM audit ORDER BY seq")] == [
        signer.key_id
    ] * 3


@pytest.mark.parametrize("how", ["unsigned", "bad signature"])
def test_an_append_with_a_good_hash_but_no_good_signature_is_named(
    store: Store, key_file: Path, how: str
) -> None:
    append(store, 3)
    assert verify(store)[0] == 0
    garbage = base64.b64encode(b"x" * 64).decode()
    seq = forge(store, signature=garbage if how == "bad signature" else None)
    report = verify_chain(store)
    assert report.kind == "signature" and report.first_bad_seq == seq == 4
    code, out = verify(store)
    assert code == 1 and "audit chain signature bad at seq 4" in out
    if how == "unsigned":
        assert "not signed" in out
    else:
        assert "audit_keys does not record" in out


def test_an_attackers_own_key_in_audit_keys_is_caught(
    store: Store, key_file: Path, tmp_path: Path
) -> None:
    append(store, 3)
    trusted = tmp_path / "trusted.pem"
    shown = runner.invoke(
        app, ["audit", "key", "show", "--store", store_arg(store), "-o", str(trusted)]
    )
    assert shown.exit_code == 0, shown.output
    mallory = attacker()
    record(store, mallory)
    seq = forge(store, mallory)
    code, out = verify(store, "--public-key", str(trusted))
    assert code == 1 and f"audit chain signature bad at seq {seq}" in out
    assert f"signed by key {mallory.key_id}" in out and f"--public-key {trusted}" in out


def test_a_chain_re_signed_with_another_key_fails_only_against_the_trusted_key(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB: the file's owner can rewrite everything; only a trusted key shows it."""
    store = tmp_path / "s.duckdb"
    append(store, 4)
    trusted = tmp_path / "trusted.pem"
    assert runner.invoke(app, ["audit", "key", "show", "-o", str(trusted)]).exit_code == 0
    mallory = attacker()
    raw(store, "DELETE FROM audit_keys")
    record(store, mallory)
    for seq, digest in query(store, "SELECT seq, hash FROM audit"):
        raw(
            store,
            "UPDATE audit SET key_id = ?, signature = ? WHERE seq = ?",
            [mallory.key_id, mallory.sign_hash(digest), seq],
        )
    code, out = verify(store, "--public-key", str(trusted))
    assert code == 1 and "audit chain signature bad at seq 1" in out
    assert "re-signed the chain" in out
    assert verify(store)[0] == 1  # the local key file is a trust anchor too
    monkeypatch.setenv("TIDEGATE_AUDIT_KEY", str(tmp_path / "no-such.key"))
    code, out = verify(store)  # no anchor at all: consistent, and it says what it trusted
    assert code == 0 and "the store's recorded keys only" in out


def _old_store(store: Store) -> None:
    """An audit table as tidegate made it before signing existed, with 3 entries."""
    if isinstance(store, PostgresStore):
        schema = store.url.rsplit("%3D", 1)[1]
        raw(store, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    raw(
        store,
        'CREATE TABLE audit (seq BIGINT PRIMARY KEY, "at" VARCHAR NOT NULL, actor VARCHAR '
        "NOT NULL, event VARCHAR NOT NULL, source VARCHAR, batch_id VARCHAR, detail VARCHAR "
        "NOT NULL, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL)",
    )
    prev = GENESIS_HASH
    for seq in (1, 2, 3):
        body = {
            "seq": seq,
            "at": f"2026-01-0{seq}T00:00:00.000000Z",
            "actor": "old",
            "event": "batch_committed",
            "source": "orders",
            "batch_id": None,
            "detail": "{}",
        }
        digest = entry_hash(prev, body)
        raw(
            store,
            'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, prev_hash, '
            "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*body.values(), prev, digest],
        )
        prev = digest


def test_entries_from_before_signing_are_reported_not_failed(store: Store, key_file: Path) -> None:
    _old_store(store)
    code, out = verify(store)  # read-only, before any migration
    assert code == 0 and "3 entries before signing was enabled (seq 1..3)" in out
    append(store, 2, start=4)  # a new tidegate adds the columns and signs from seq 4
    signed = query(store, "SELECT seq FROM audit WHERE signature IS NOT NULL ORDER BY seq")
    assert [r[0] for r in signed] == [4, 5]
    code, out = verify(store)
    assert code == 0 and "3 entries before signing was enabled (seq 1..3)" in out
    assert "2 signatures good" in out
    seq = forge(store)  # but an unsigned entry after the first signed one is bad
    code, out = verify(store)
    assert code == 1 and f"signature bad at seq {seq}" in out and "not signed" in out


def test_rotation_is_signed_by_the_old_key_and_names_the_new_one(
    store: Store, key_file: Path, tmp_path: Path
) -> None:
    append(store, 2)
    old = read_key_file(key_file)
    assert old is not None
    old_pub = tmp_path / "old.pem"
    assert runner.invoke(app, ["audit", "key", "show", "-o", str(old_pub)]).exit_code == 0
    result = runner.invoke(app, ["audit", "key", "rotate", "--store", store_arg(store)])
    assert result.exit_code == 0, result.output
    new = read_key_file(key_file)
    assert new is not None and new.key_id != old.key_id
    retired = key_file.with_name(f"audit-signing.{old.key_id}.key")
    assert (
        key_id_or_none(read_key_file(retired)) == old.key_id
        and retired.stat().st_mode & 0o777 == 0o600
    )
    append(store, 1, start=10)
    rows = query(store, "SELECT seq, event, key_id, detail FROM audit ORDER BY seq")
    assert [(r[1], r[2]) for r in rows[2:]] == [
        ("audit_key_rotated", old.key_id),
        ("audit_key_activated", new.key_id),
        ("batch_committed", new.key_id),
    ]
    handover = json.loads(rows[2][3])
    assert handover["key_id"] == new.key_id and handover["public_key"] == new.public_b64
    assert scalar(store, "SELECT count(*) FROM audit_keys") == 2
    assert key_id_of(base64.b64decode(handover["public_key"])) == new.key_id
    for args in ([], ["--public-key", str(old_pub)], ["--public-key", str(key_file)]):
        code, out = verify(store, *args)
        assert code == 0 and "5 signatures good" in out, (args, out)


def test_the_old_key_cannot_write_after_a_rotation(
    store: Store, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(store, 1)
    assert (
        runner.invoke(app, ["audit", "key", "rotate", "--store", store_arg(store)]).exit_code == 0
    )
    old = next(key_file.parent.glob("audit-signing.ak_*.key"))
    monkeypatch.setenv("TIDEGATE_AUDIT_KEY", str(old))
    from tidegate.errors import AuditKeyError

    with pytest.raises(AuditKeyError, match="is not the key that signs this store"):
        append(store, 1, start=5)
    assert scalar(store, "SELECT count(*) FROM audit") == 3


def test_a_store_signed_by_a_key_not_here_refuses_writes_with_one_line(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.duckdb"
    append(store, 1)
    monkeypatch.setenv("TIDEGATE_AUDIT_KEY", str(tmp_path / "elsewhere.key"))
    result = runner.invoke(app, ["quarantine", "list", "--store", str(store)])  # a read still works
    assert result.exit_code == 0, result.output
    from tidegate.errors import AuditKeyError

    with pytest.raises(AuditKeyError, match=r"no audit signing key at .*elsewhere\.key"):
        append(store, 1, start=2)
    assert not (tmp_path / "elsewhere.key").exists()  # not made: it would not be the key


def test_a_key_in_a_prefect_secret_block_signs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    from tidegate.store import _audit_signer
    from tidegate.store._audit_signer import private_pem

    key = Ed25519PrivateKey.generate()
    loaded: list[str] = []

    class Held:
        def get(self) -> str:
            return private_pem(key).decode()

    def load(name: str) -> Held:
        loaded.append(name)
        return Held()

    monkeypatch.setattr(Secret, "load", staticmethod(load))
    monkeypatch.setattr(_audit_signer, "_block_cache", {})
    monkeypatch.delenv("TIDEGATE_AUDIT_KEY", raising=False)
    monkeypatch.setenv("TIDEGATE_AUDIT_KEY_BLOCK", "audit-key")
    store = tmp_path / "s.duckdb"
    append(store, 2)
    append(store, 1, start=3)
    block = AuditSigner(key, "block audit-key")
    assert {r[0] for r in query(store, "SELECT key_id FROM audit")} == {block.key_id}
    assert loaded == ["audit-key"]  # loaded once per process, not per entry
    public = tmp_path / "block.pub"
    public.write_text(block.public_b64)
    code, out = verify(store, "--public-key", str(public))
    assert code == 0 and "3 signatures good" in out


def test_store_init_makes_the_key(tmp_path: Path, key_file: Path) -> None:
    result = runner.invoke(app, ["store", "init", "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output
    signer = read_key_file(key_file)
    assert signer is not None and key_file.stat().st_mode & 0o777 == 0o600
    out = " ".join(result.output.split())
    assert f"audit signing key {signer.key_id}" in out and "made now" in out
    again = runner.invoke(app, ["store", "init", "--store", str(tmp_path / "s.duckdb")])
    assert "in place" in again.output and key_id_or_none(read_key_file(key_file)) == signer.key_id


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, key_file: Path) -> None:
    from tidegate.errors import AuditKeyError

    append(tmp_path / "s.duckdb", 1)
    key_file.chmod(0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        append(tmp_path / "s.duckdb", 1, start=2)


@pytest.mark.postgres
def test_postgres_keeps_audit_keys_append_only_and_a_writer_role_signs(
    tmp_path: Path, key_file: Path
) -> None:
    import psycopg

    from store_backends import drop_pg_store, make_store, writer_role

    owner = make_store("postgres", tmp_path)
    assert isinstance(owner, PostgresStore)
    try:
        with writer_role(owner) as (as_writer, granted):
            assert any("GRANT SELECT, INSERT ON audit_keys" in g for g in granted)
            append(as_writer, 2)  # the writer records the key and signs
            assert scalar(owner, "SELECT count(*) FROM audit_keys") == 1
            with psycopg.connect(as_writer.conninfo(), autocommit=True) as con:
                for statement in (
                    "UPDATE audit_keys SET public_key = 'x'",
                    "DELETE FROM audit_keys",
                    "TRUNCATE audit_keys",
                    "ALTER TABLE audit_keys DISABLE TRIGGER audit_keys_append_only",
                ):
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        con.execute(statement)
            with psycopg.connect(owner.conninfo(), autocommit=True) as con:  # the owner too
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    con.execute("DELETE FROM audit_keys")
                schema = owner.url.rsplit("%3D", 1)[1]
                config = con.execute(
                    "SELECT proconfig FROM pg_proc WHERE proname = "
                    "'tidegate_audit_keys_append_only' AND pronamespace = %s::regnamespace",
                    [schema],
                ).fetchall()
            assert config == [([f"search_path=pg_catalog, {schema}, pg_temp"],)]
            assert verify(owner)[0] == 0
    finally:
        drop_pg_store(owner)


def test_another_store_of_the_rotated_key_is_handed_over_on_its_next_write(
    tmp_path: Path, key_file: Path
) -> None:
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    append(first, 1)
    append(second, 2)
    old = read_key_file(key_file)
    assert old is not None
    assert runner.invoke(app, ["audit", "key", "rotate", "--store", str(first)]).exit_code == 0
    new = read_key_file(key_file)
    assert new is not None and new.key_id != old.key_id
    append(second, 1, start=3)  # signed by the old key until now: handed over first
    rows = query(second, "SELECT event, key_id FROM audit ORDER BY seq")
    assert rows == [
        ("batch_committed", old.key_id),
        ("batch_committed", old.key_id),
        ("audit_key_rotated", old.key_id),
        ("audit_key_activated", new.key_id),
        ("batch_committed", new.key_id),
    ]
    code, out = verify(second)
    assert code == 0 and "5 signatures good" in out
