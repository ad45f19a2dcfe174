"""The append-only, hash-chained audit log.

``hash = sha256(prev_hash || canonical JSON of the row)``, where the row is
``{seq, at, actor, event, source, batch_id, detail}`` and canonical JSON sorts
keys and uses no whitespace. The first entry's ``prev_hash`` is 64 zeros.
The code only ever appends; :func:`tidegate.audit.verify_chain` recomputes it.

Each entry is also signed (``key_id``, ``signature``: Ed25519 over the hex hash) with
the writers' key (:mod:`tidegate.store._audit_signer`), outside the hashed body, so
entries written before signing existed keep their hashes. A store's first signed write
records the key's public half in ``audit_keys`` (:mod:`tidegate.store._audit_keys`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tidegate.store._connect import fetch_one

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._audit_signer import AuditSigner

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_actor() -> str:
    """``$TIDEGATE_ACTOR``, else ``system:<login name>``."""
    env = os.environ.get("TIDEGATE_ACTOR")
    if env:
        return env
    try:
        return f"system:{getpass.getuser()}"
    except Exception:
        return "system"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    event: str
    source: str | None
    batch_id: str | None
    detail: str  # canonical JSON text
    prev_hash: str
    hash: str
    key_id: str | None = None  # None: written before signing existed
    signature: str | None = None  # base64 Ed25519 signature of ``hash``

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "event": self.event,
            "source": self.source,
            "batch_id": self.batch_id,
            "detail": self.detail,
        }

    @property
    def detail_dict(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.detail)
        return loaded


AUDIT_COLUMNS = (
    'seq, "at", actor, event, source, batch_id, detail, prev_hash, hash, key_id, signature'
)
# what an older store's audit table (no signature columns yet) is read as
_UNSIGNED_COLUMNS = 'seq, "at", actor, event, source, batch_id, detail, prev_hash, hash, NULL, NULL'


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _signed(body: dict[str, Any], prev: str, signer: AuditSigner) -> AuditEntry:
    digest = entry_hash(prev, body)
    return AuditEntry(
        **body,
        prev_hash=prev,
        hash=digest,
        key_id=signer.key_id,
        signature=signer.sign_hash(digest),
    )


def ready_to_sign(
    con: duckdb.DuckDBPyConnection, at: str, actor: str
) -> tuple[AuditSigner, int, str]:
    """The writers' key and the head ``(seq, hash)`` to append after. On a store with no
    signed entry yet, records the key in ``audit_keys``: signing starts with this entry.
    A store still signed by a key this host retired (another store's `tidegate audit key
    rotate`) is handed over to the current key first, by the retired key's rotation."""
    from tidegate.store._audit_keys import chain_signing_key, ensure_audit_keys, record_key
    from tidegate.store._audit_signer import configured_signer, retired_signer

    ensure_audit_keys(con)
    current = chain_signing_key(con, columns_made=True)
    signer = configured_signer(create=current is None)
    if signer is not None and current is not None and signer.key_id != current[0]:
        retired = retired_signer(signer, current[0])
        if retired is not None:
            hand_over(con, retired, signer, actor, "the host's key was rotated")
            current = (signer.key_id, 0)
    head = fetch_one(con, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    if signer is None or (current is not None and signer.key_id != current[0]):
        raise _not_the_store_key(signer, current)
    if current is None:
        record_key(con, signer.key_id, signer.public_b64, at, actor, f"signing from seq {seq + 1}")
    return signer, seq, prev


def _not_the_store_key(signer: AuditSigner | None, current: tuple[str, int] | None) -> Exception:
    from tidegate.errors import AuditKeyError
    from tidegate.store._audit_signer import BLOCK_ENV, KEY_ENV, key_file_path

    store_key = f"key {current[0]} (since seq {current[1]})" if current else "no key"
    if signer is None:
        return AuditKeyError(
            f"no audit signing key at {key_file_path()}, and this store's entries are signed "
            f"by {store_key}: copy that key file there, or point {KEY_ENV} at it "
            f"(or {BLOCK_ENV} at a Prefect Secret block holding it)"
        )
    return AuditKeyError(
        f"the audit key {signer.where} (key id {signer.key_id}) is not the key that signs "
        f"this store ({store_key}); point {KEY_ENV} at that key's file (or {BLOCK_ENV} at "
        "its Prefect Secret block); only its holder can rotate it"
    )


def _body(
    seq: int,
    at: str,
    actor: str,
    event: str,
    detail: dict[str, Any],
    source: str | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "actor": actor,
        "event": event,
        "source": source,
        "batch_id": batch_id,
        "detail": canonical_json(detail),
    }


def _row(e: AuditEntry) -> list[Any]:
    return [
        e.seq,
        e.at,
        e.actor,
        e.event,
        e.source,
        e.batch_id,
        e.detail,
        e.prev_hash,
        e.hash,
        e.key_id,
        e.signature,
    ]


def _insert(con: duckdb.DuckDBPyConnection, entries: list[AuditEntry]) -> None:
    marks = ", ".join("?" for _ in range(11))
    for e in entries:
        con.execute(f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ({marks})", _row(e))


def append_audit(
    con: duckdb.DuckDBPyConnection,
    event: str,
    detail: dict[str, Any],
    *,
    source: str | None = None,
    batch_id: str | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Append one signed entry inside the caller's transaction and return it."""
    at, who = utc_now_iso(), actor or default_actor()
    signer, seq, prev = ready_to_sign(con, at, who)
    entry = _signed(_body(seq + 1, at, who, event, detail, source, batch_id), prev, signer)
    _insert(con, [entry])
    return entry


def hand_over(
    con: duckdb.DuckDBPyConnection, old: AuditSigner, new: AuditSigner, actor: str, why: str
) -> AuditEntry:
    """Rotate the chain from ``old`` to ``new``: record ``new``'s public key, append the
    ``audit_key_rotated`` entry ``old`` signs, then ``new``'s ``audit_key_activated``."""
    from tidegate.store._audit_keys import KEY_ACTIVATED, KEY_ROTATED, record_key

    record_key(con, new.key_id, new.public_b64, utc_now_iso(), actor, f"rotated from {old.key_id}")
    handover = {
        "key_id": new.key_id,
        "public_key": new.public_b64,
        "previous_key_id": old.key_id,
        "reason": why,
    }
    rotated = append_signed(con, old, KEY_ROTATED, handover, actor=actor)
    append_signed(con, new, KEY_ACTIVATED, handover, actor=actor)
    return rotated


def append_signed(
    con: duckdb.DuckDBPyConnection,
    signer: AuditSigner,
    event: str,
    detail: dict[str, Any],
    *,
    actor: str | None = None,
) -> AuditEntry:
    """Append one entry signed by ``signer`` whatever key the chain has now (the key
    rotation's entries; the caller checked the chain's key)."""
    head = fetch_one(con, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
    body = _body(seq + 1, utc_now_iso(), actor or default_actor(), event, detail)
    entry = _signed(body, prev, signer)
    _insert(con, [entry])
    return entry


def audit_columns(con: duckdb.DuckDBPyConnection) -> str:
    """The columns an entry is read from (an older store's audit has no signature yet)."""
    from tidegate.store._audit_keys import has_signature_columns

    return AUDIT_COLUMNS if has_signature_columns(con) else _UNSIGNED_COLUMNS


def read_audit(
    con: duckdb.DuckDBPyConnection, where: str = "", params: list[Any] | None = None
) -> list[AuditEntry]:
    columns = audit_columns(con)
    rows = con.execute(f"SELECT {columns} FROM audit {where} ORDER BY seq", params or []).fetchall()
    return [AuditEntry(*row) for row in rows]


def read_source_runs(con: duckdb.DuckDBPyConnection, source: str) -> tuple[list[AuditEntry], int]:
    """A source's entries without its skips but the last one, and how many skips it has.

    What the source's report figures need: a run over committed files appends a
    ``batch_skipped`` entry per file, so the skips outgrow everything else in the audit,
    while a report only counts them (and shows the last entry of the source).
    """
    entries = read_audit(con, "WHERE source = ? AND event <> 'batch_skipped'", [source])
    row = fetch_one(
        con,
        "SELECT count(*), max(seq) FROM audit WHERE source = ? AND event = 'batch_skipped'",
        [source],
    )
    skipped, last = (int(row[0]), row[1]) if row else (0, None)
    if last is not None:
        entries = sorted([*entries, *read_audit(con, "WHERE seq = ?", [last])], key=lambda e: e.seq)
    return entries, skipped


def append_audit_many(
    con: duckdb.DuckDBPyConnection,
    entries: list[tuple[str, dict[str, Any], str | None, str | None]],
    *,
    actor: str | None = None,
) -> list[AuditEntry]:
    """Append many ``(event, detail, source, batch_id)`` entries in one go, chained in order."""
    if not entries:
        return []
    who, at = actor or default_actor(), utc_now_iso()
    signer, seq, prev = ready_to_sign(con, at, who)
    out: list[AuditEntry] = []
    for event, detail, source, batch_id in entries:
        seq += 1
        entry = _signed(_body(seq, at, who, event, detail, source, batch_id), prev, signer)
        out.append(entry)
        prev = entry.hash
    import polars as pl

    rows = pl.DataFrame(
        [_row(e) for e in out],
        schema={
            "seq": pl.Int64,
            "at": pl.String,
            "actor": pl.String,
            "event": pl.String,
            "source": pl.String,
            "batch_id": pl.String,
            "detail": pl.String,
            "prev_hash": pl.String,
            "hash": pl.String,
            "key_id": pl.String,
            "signature": pl.String,
        },
        orient="row",
    )
    con.register("_tg_audit", rows.to_arrow())
    try:
        con.execute(
            f"INSERT INTO audit ({AUDIT_COLUMNS}) "
            f"SELECT {AUDIT_COLUMNS} FROM _tg_audit ORDER BY seq"  # in chain order
        )
    finally:
        con.unregister("_tg_audit")
    return out
