"""The append-only, hash-chained audit log.

``hash = sha256(prev_hash || canonical JSON of the row)``, where the row is
``{seq, at, actor, event, source, batch_id, detail}`` and canonical JSON sorts
keys and uses no whitespace. The first entry's ``prev_hash`` is 64 zeros.
The code only ever appends; :func:`tidegate.audit.verify_chain` recomputes it.
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


AUDIT_COLUMNS = 'seq, "at", actor, event, source, batch_id, detail, prev_hash, hash'


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def append_audit(
    con: duckdb.DuckDBPyConnection,
    event: str,
    detail: dict[str, Any],
    *,
    source: str | None = None,
    batch_id: str | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction and return it."""
    head = fetch_one(con, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    body: dict[str, Any] = {
        "seq": seq,
        "at": utc_now_iso(),
        "actor": actor or default_actor(),
        "event": event,
        "source": source,
        "batch_id": batch_id,
        "detail": canonical_json(detail),
    }
    entry = AuditEntry(**body, prev_hash=prev, hash=entry_hash(prev, body))
    con.execute(
        f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            entry.seq,
            entry.at,
            entry.actor,
            entry.event,
            entry.source,
            entry.batch_id,
            entry.detail,
            entry.prev_hash,
            entry.hash,
        ],
    )
    return entry


def read_audit(
    con: duckdb.DuckDBPyConnection, where: str = "", params: list[Any] | None = None
) -> list[AuditEntry]:
    rows = con.execute(
        f"SELECT {AUDIT_COLUMNS} FROM audit {where} ORDER BY seq", params or []
    ).fetchall()
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
    head = fetch_one(con, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
    who, at = actor or default_actor(), utc_now_iso()
    out: list[AuditEntry] = []
    for event, detail, source, batch_id in entries:
        seq += 1
        body: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": who,
            "event": event,
            "source": source,
            "batch_id": batch_id,
            "detail": canonical_json(detail),
        }
        entry = AuditEntry(**body, prev_hash=prev, hash=entry_hash(prev, body))
        out.append(entry)
        prev = entry.hash
    import polars as pl

    rows = pl.DataFrame(
        [
            [e.seq, e.at, e.actor, e.event, e.source, e.batch_id, e.detail, e.prev_hash, e.hash]
            for e in out
        ],
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
