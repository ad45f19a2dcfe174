"""The store's record of the audit's public keys, and which key signs its chain now.

``audit_keys`` (``key_id``, ``public_key`` base64 of the raw 32 bytes, ``created_at``,
``created_by``, ``note``) is append-only like the audit: on PostgreSQL triggers refuse
UPDATE, DELETE and TRUNCATE. It only says which public key a key id stands for; which
key may sign where is said by the chain itself: the key of the first signed entry signs
every later one, until an ``audit_key_rotated`` entry signed by it names a new key
(followed at once by the new key's ``audit_key_activated`` entry). Entries carry
``key_id`` and ``signature`` columns, added to stores made before signing existed;
their older entries stay unsigned.
"""

from __future__ import annotations

import json
from typing import Any

from tidegate.store._connect import fetch_one
from tidegate.store._pg_triggers import KEYS_GUARD_FUNCTION, KEYS_GUARD_TRIGGERS, pinned_search_path
from tidegate.store._tables import column_names, is_postgres_connection, quote_ident

KEY_ACTIVATED = "audit_key_activated"
KEY_ROTATED = "audit_key_rotated"
SIGNATURE_COLUMNS = ("key_id", "signature")

AUDIT_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS audit_keys (
    key_id VARCHAR PRIMARY KEY,
    public_key VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    note VARCHAR
)
"""


def audit_keys_triggers_ddl(schema: str) -> str:
    """The PostgreSQL triggers that keep ``audit_keys`` append-only. The function pins
    its search_path (pg_catalog first) and every name is schema-qualified."""
    s = quote_ident(schema)
    return f"""
CREATE OR REPLACE FUNCTION {s}.{KEYS_GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql {pinned_search_path(schema)} AS $$
BEGIN
    RAISE EXCEPTION 'the tidegate audit keys are append-only: % on audit_keys is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'a key is replaced by `tidegate audit key rotate`, never edited';
END $$;
CREATE OR REPLACE TRIGGER {KEYS_GUARD_TRIGGERS[0]}
    BEFORE UPDATE OR DELETE ON {s}.audit_keys
    FOR EACH ROW EXECUTE FUNCTION {s}.{KEYS_GUARD_FUNCTION}();
CREATE OR REPLACE TRIGGER {KEYS_GUARD_TRIGGERS[1]}
    BEFORE TRUNCATE ON {s}.audit_keys
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.{KEYS_GUARD_FUNCTION}();
"""


def ensure_audit_keys(con: Any) -> None:
    """Make ``audit_keys`` (with its triggers on PostgreSQL) and add the signature
    columns to an older store's ``audit`` (write transaction; the owner's, on PostgreSQL).
    One catalog query when all is in place (every signed append asks)."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name IN ('audit', 'audit_keys')"
    ).fetchall()
    have_audit = {str(c) for t, c in rows if t == "audit"}
    for column in SIGNATURE_COLUMNS:
        if have_audit and column not in have_audit:
            con.execute(f"ALTER TABLE audit ADD COLUMN IF NOT EXISTS {column} VARCHAR")
    if any(t == "audit_keys" for t, _ in rows):
        return
    con.execute(AUDIT_KEYS_DDL)
    if is_postgres_connection(con):
        schema = con.execute("SELECT current_schema()").fetchall()[0][0]
        con.execute(audit_keys_triggers_ddl(str(schema)))


def has_signature_columns(con: Any) -> bool:
    """Does this store's ``audit`` have the signature columns yet? (read connections)"""
    have = column_names(con, "audit")
    return all(c in have for c in SIGNATURE_COLUMNS)


def record_key(con: Any, key_id: str, public_b64: str, at: str, by: str, note: str) -> None:
    """Add a public key to ``audit_keys`` unless its key id is there already."""
    if fetch_one(con, "SELECT 1 FROM audit_keys WHERE key_id = ?", [key_id]):
        return
    con.execute(
        "INSERT INTO audit_keys (key_id, public_key, created_at, created_by, note) "
        "VALUES (?, ?, ?, ?, ?)",
        [key_id, public_b64, at, by, note],
    )


def recorded_keys(con: Any) -> dict[str, str]:
    """Every recorded key: key id -> base64 public key (empty before signing existed)."""
    if not column_names(con, "audit_keys"):
        return {}
    rows = con.execute("SELECT key_id, public_key FROM audit_keys").fetchall()
    return {str(k): str(p) for k, p in rows}


def chain_signing_key(con: Any, *, columns_made: bool = False) -> tuple[str, int] | None:
    """``(key id, seq)``: the key that must sign the next entry, from the newest signed
    entry (the key a rotation names, when that entry is the rotation); None while no
    entry is signed. ``columns_made``: the caller ran :func:`ensure_audit_keys`."""
    if not columns_made and not has_signature_columns(con):
        return None
    row = fetch_one(  # not the detail: DuckDB would read every entry's to pick the newest
        con,
        "SELECT seq, event, key_id FROM audit WHERE key_id IS NOT NULL ORDER BY seq DESC LIMIT 1",
    )
    if row is None:
        return None
    seq, event, key_id = row
    if event == KEY_ROTATED:
        detail = fetch_one(con, "SELECT detail FROM audit WHERE seq = ?", [seq])
        assert detail is not None  # the row just read
        return str(json.loads(detail[0])["key_id"]), int(seq)
    return str(key_id), int(seq)
