"""Named reads of the audit table: what the audit commands, the doctor, the report and
`tidegate pipelines list` ask of it. Each takes an open connection (one operation, one
connection: the caller opens it with ``connect(store, read_only=True)``), except
:func:`read_chain`, which opens its own.

``at`` is stored as an ISO-8601 UTC string (``2026-11-24T12:00:00.123456Z``), so
since/until compare as strings once the bound is written the same way. ``at`` is
a reserved word in DuckDB: it is always quoted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tidegate.store._audit_log import AuditEntry, audit_columns, read_audit
from tidegate.store._connect import connect, fetch_one
from tidegate.store._tables import store_tables

if TYPE_CHECKING:
    from tidegate.store._protocol import Connection, StoreLike

CHAIN_PAGE = 10_000  # seqs per window when a whole chain is read (verify, doctor, report)


@dataclass(frozen=True)
class AuditMatch:
    """Which audit entries to read; every field left empty matches everything."""

    source: str | None = None
    events: tuple[str, ...] = field(default_factory=tuple)
    actor: str | None = None
    batch: str | None = None
    since: str | None = None  # inclusive, as stored in "at"
    until: str | None = None  # exclusive, as stored in "at"
    after_seq: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """``("WHERE ...", params)``, or ``("", [])`` when nothing is filtered."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.source is not None:
            clauses.append("source = ?")
            params.append(self.source)
        if self.events:
            clauses.append(f"event IN ({', '.join('?' for _ in self.events)})")
            params.extend(self.events)
        if self.actor is not None:
            clauses.append("actor = ?")
            params.append(self.actor)
        if self.batch is not None:
            clauses.append("batch_id = ?")
            params.append(self.batch)
        if self.since is not None:
            clauses.append('"at" >= ?')
            params.append(self.since)
        if self.until is not None:
            clauses.append('"at" < ?')
            params.append(self.until)
        if self.after_seq is not None:
            clauses.append("seq > ?")
            params.append(self.after_seq)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def has_audit(con: Connection) -> bool:
    """Has the first write made the audit table yet?"""
    return "audit" in store_tables(con)


def read_chain(store: StoreLike, *, wait_seconds: float | None = None) -> list[AuditEntry] | None:
    """Every audit entry in seq order, read-only; None while the store has no audit table."""
    with connect(store, read_only=True, wait_seconds=wait_seconds) as con:
        return read_audit(con) if has_audit(con) else None


def count_entries(con: Connection, match: AuditMatch) -> int:
    """How many entries ``match`` selects, over all pages."""
    where, params = match.where()
    row = fetch_one(con, f"SELECT count(*) FROM audit {where}", params)
    return int(row[0]) if row else 0


def page_seqs(
    con: Connection, match: AuditMatch, *, limit: int, offset: int, oldest_first: bool
) -> list[int]:
    """The seqs of one page of matching entries, newest (or oldest) first."""
    where, params = match.where()
    order = "ASC" if oldest_first else "DESC"
    return [
        r[0]
        for r in con.execute(
            f"SELECT seq FROM audit {where} ORDER BY seq {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
    ]


def entries_between(con: Connection, low: int, high: int) -> list[AuditEntry]:
    """The entries from seq ``low`` to ``high``, both included, in seq order."""
    return read_audit(con, "WHERE seq BETWEEN ? AND ?", [low, high])


def entry_at(con: Connection, seq: int) -> AuditEntry | None:
    """The entry numbered ``seq``, if there is one."""
    found = read_audit(con, "WHERE seq = ?", [seq])
    return found[0] if found else None


def seq_bounds(con: Connection) -> tuple[int | None, int | None]:
    """The lowest and the highest seq (None, None for an empty log)."""
    bounds = fetch_one(con, "SELECT min(seq), max(seq) FROM audit")
    return (bounds[0], bounds[1]) if bounds else (None, None)


def entries_of_batch(
    con: Connection, batch_id: str, events: Sequence[str] | None = None
) -> list[AuditEntry]:
    """Every entry of ``batch_id`` (only of the given ``events``, if any), in seq order."""
    if not events:
        return read_audit(con, "WHERE batch_id = ?", [batch_id])
    marks = ", ".join("?" for _ in events)
    return read_audit(con, f"WHERE batch_id = ? AND event IN ({marks})", [batch_id, *events])


def review_entries(con: Connection, source: str) -> list[AuditEntry]:
    """The review actions (``record_*`` events) on ``source``'s quarantine, in seq order."""
    return read_audit(con, "WHERE source = ? AND event LIKE 'record\\_%' ESCAPE '\\'", [source])


def last_batch_event(
    con: Connection, sources: Sequence[str], events: Sequence[str]
) -> tuple[str, str, Any] | None:
    """``(event, at, detail)`` of the newest entry of any of ``sources`` whose event is
    one of ``events``; None when there is none."""
    marks = ", ".join("?" for _ in sources)
    kinds = ", ".join("?" for _ in events)
    rows = con.execute(
        f'SELECT event, "at", detail FROM audit WHERE source IN ({marks}) '
        f"AND event IN ({kinds}) ORDER BY seq DESC LIMIT 1",
        [*sources, *events],
    ).fetchall()
    if not rows:
        return None
    event, at, detail = rows[0]
    return str(event), str(at), detail


def read_chain_and_keys(
    store: StoreLike, *, wait_seconds: float | None = None
) -> tuple[list[AuditEntry], dict[str, str]] | None:
    """Every audit entry in seq order and every recorded public key (key id -> base64),
    read in one read-only connection; None while the store has no audit table."""
    from tidegate.store._audit_keys import recorded_keys

    with connect(store, read_only=True, wait_seconds=wait_seconds) as con:
        if not has_audit(con):
            return None
        return read_audit(con), recorded_keys(con)


@contextmanager
def stream_chain(
    store: StoreLike, *, wait_seconds: float | None = None, page: int = CHAIN_PAGE
) -> Iterator[Iterator[AuditEntry] | None]:
    """Every audit entry in seq order, one window of ``page`` seqs at a time
    (:func:`iter_chain`) while the read-only connection is open; None while the store
    has no audit table."""
    with connect(store, read_only=True, wait_seconds=wait_seconds) as con:
        if not has_audit(con):
            yield None
            return
        yield iter_chain(con, seq_bounds(con)[1], page=page)


@contextmanager
def stream_chain_and_keys(
    store: StoreLike, *, page: int = CHAIN_PAGE
) -> Iterator[tuple[Iterator[AuditEntry], dict[str, str]] | None]:
    """:func:`read_chain_and_keys` for a chain of any length: the entries come one page
    at a time (:func:`iter_chain`) while the connection is open."""
    from tidegate.store._audit_keys import recorded_keys

    with connect(store, read_only=True) as con:
        if not has_audit(con):
            yield None
            return
        head = seq_bounds(con)[1]
        # the keys after the head: every entry up to it was appended after its key
        yield iter_chain(con, head, page=page), recorded_keys(con)


def iter_chain(
    con: Connection, head: int | None, *, page: int = CHAIN_PAGE
) -> Iterator[AuditEntry]:
    """The entries up to seq ``head``, in seq order, read by windows of ``page`` seqs
    (memory holds one window, however long the chain). A window holds every row of its
    seqs, so a repeated seq is read twice, as a single ``ORDER BY seq`` would read it;
    after an empty window (a gap) the next window starts at the next seq there is."""
    if head is None:
        return
    columns = audit_columns(con)
    low = seq_bounds(con)[0]
    while low is not None and low <= head:
        high = min(low + page, head + 1)
        rows = con.execute(
            f"SELECT {columns} FROM audit WHERE seq >= ? AND seq < ? ORDER BY seq",
            [low, high],
        ).fetchall()
        yield from (AuditEntry(*row) for row in rows)
        if rows:
            low = high
        else:
            found = fetch_one(con, "SELECT min(seq) FROM audit WHERE seq >= ?", [high])
            low = found[0] if found else None
