"""Helpers of the audit signing tests (tests/audit/test_signing*.py): append signed
entries, write as an attacker would (plain SQL, no key), run `tidegate audit verify`."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from helpers import query
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import (
    GENESIS_HASH,
    Store,
    append_audit,
    connect,
    ensure_store_tables,
    entry_hash,
    transaction,
)
from tidegate.store._audit_signer import AuditSigner

runner = CliRunner()


def append(store: Store, n: int, start: int = 1) -> None:
    with transaction(store) as con:
        ensure_store_tables(con)
        for i in range(start, start + n):
            append_audit(con, "batch_committed", {"rows_in": i}, source="orders", actor="t")


def raw(store: Store, sql: str, params: list[object] | None = None) -> None:
    """One statement outside tidegate's writers (autocommit), as an attacker would."""
    with connect(store) as con:
        con.execute(sql, params or [])


def head(store: Store) -> tuple[int, str]:
    row = query(store, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    return (int(row[0][0]), str(row[0][1])) if row else (0, GENESIS_HASH)


def forge(store: Store, signer: AuditSigner | None = None, signature: str | None = None) -> int:
    """Append an entry with a correct chain hash, signed by ``signer`` (or carrying
    ``signature``, or nothing), with plain SQL. Returns its seq."""
    seq, prev = head(store)
    body = {
        "seq": seq + 1,
        "at": "2026-12-02T12:00:00.000000Z",
        "actor": "mallory",
        "event": "batch_committed",
        "source": "orders",
        "batch_id": None,
        "detail": json.dumps({"rows_in": 999}),
    }
    digest = entry_hash(prev, body)
    key_id = signer.key_id if signer else ("ak_0000000000000000" if signature else None)
    if signer is not None:
        signature = signer.sign_hash(digest)
    raw(
        store,
        'INSERT INTO audit (seq, "at", actor, event, source, batch_id, detail, prev_hash, '
        "hash, key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*body.values(), prev, digest, key_id, signature],
    )
    return seq + 1


def key_id_or_none(signer: AuditSigner | None) -> str | None:
    return signer.key_id if signer else None


def attacker() -> AuditSigner:
    return AuditSigner(Ed25519PrivateKey.generate(), "mallory")


def record(store: Store, signer: AuditSigner) -> None:
    raw(
        store,
        "INSERT INTO audit_keys (key_id, public_key, created_at, created_by) VALUES (?, ?, ?, ?)",
        [signer.key_id, signer.public_b64, "2026-12-02T12:00:00Z", "mallory"],
    )


def verify(store: Store, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--store", store_arg(store), *args])
    return result.exit_code, " ".join(result.output.split())
