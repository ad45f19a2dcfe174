"""The store's PII key: what the audit's PII values are encrypted under, and its erasure.

One live key per store (``pii_keys``: ``key_id``, ``material``, ``created_at``,
``destroyed_at``, ``destroyed_by``), made on the first PII value that enters the audit.
Erasing it overwrites the material with NULL and stamps who and when: every value
sealed under it is then unrecoverable, while the audit rows (which hold only the
ciphertext) stay as they were, so the hash chain still verifies. The next PII value
gets a new key.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import UTC, datetime
from typing import Any

from tidegate.store._connect import fetch_one
from tidegate.store._tables import store_tables

PII_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS pii_keys (
    key_id VARCHAR PRIMARY KEY,
    material VARCHAR,
    created_at TIMESTAMP NOT NULL,
    destroyed_at TIMESTAMP,
    destroyed_by VARCHAR
)
"""
KEY_BYTES = 32  # AES-256-GCM


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_pii_keys_table(con: Any) -> None:
    con.execute(PII_KEYS_DDL)


def live_key(con: Any) -> tuple[str, bytes]:
    """The store's live key ``(key_id, material)``, made now if there is none (write
    transaction only)."""
    ensure_pii_keys_table(con)
    row = fetch_one(
        con,
        "SELECT key_id, material FROM pii_keys WHERE destroyed_at IS NULL "
        "ORDER BY created_at DESC LIMIT 1",
    )
    if row is not None and row[1]:
        return str(row[0]), base64.b64decode(row[1])
    key_id, material = f"pk_{secrets.token_hex(6)}", os.urandom(KEY_BYTES)
    con.execute(
        "INSERT INTO pii_keys (key_id, material, created_at) VALUES (?, ?, ?)",
        [key_id, base64.b64encode(material).decode("ascii"), _now()],
    )
    return key_id, material


def key_materials(con: Any) -> dict[str, bytes | None]:
    """Every key of the store: its material, or None once it was erased."""
    if "pii_keys" not in store_tables(con):
        return {}
    rows = con.execute("SELECT key_id, material FROM pii_keys").fetchall()
    return {str(k): base64.b64decode(m) if m else None for k, m in rows}


def erase_live_keys(con: Any, actor: str) -> list[str]:
    """Overwrite the material of every live key; returns the erased key ids."""
    ensure_pii_keys_table(con)
    rows = con.execute(
        "SELECT key_id FROM pii_keys WHERE destroyed_at IS NULL ORDER BY key_id"
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    if ids:
        con.execute(
            "UPDATE pii_keys SET material = NULL, destroyed_at = ?, destroyed_by = ? "
            "WHERE destroyed_at IS NULL",
            [_now(), actor],
        )
    return ids


def erase_pii_keys(store: Any, actor: str) -> list[str]:
    """Destroy the store's live PII key(s), audited as ``pii_key_erased``, in one transaction.

    Returns the erased key ids (empty when there was no live key; nothing is audited then).
    """
    from tidegate.store._audit_log import append_audit
    from tidegate.store._connect import transaction
    from tidegate.store._tables import ensure_store_tables

    with transaction(store) as con:
        ensure_store_tables(con)
        erased = erase_live_keys(con, actor)
        if erased:
            append_audit(
                con,
                "pii_key_erased",
                {
                    "keys": erased,
                    "effect": "the PII values sealed under these keys are unrecoverable",
                },
                actor=actor,
            )
    return erased
