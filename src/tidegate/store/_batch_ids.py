"""Batch ids as a person types them: the whole id, or a prefix long enough to be unique.

Every command that takes a batch id (``replay --batch``, ``reject --batch``, ``export
--batch``, ``quarantine list --batch``, ``audit list --batch``, ``audit show``) resolves it
here, against the batch ids the store knows (its audit log and its quarantine).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tidegate.errors import BatchIdError
from tidegate.store._connect import connect
from tidegate.store._location import open_store

if TYPE_CHECKING:
    from tidegate.store._protocol import Connection, StoreLike

SHOWN_MATCHES = 5
# source-YYYYmmddTHHMMSS-<8 hex of the content hash>-<4 random hex>, see new_batch_id
_STAMPED = re.compile(r"^(.+-\d{8}T\d{6})-[0-9a-f]+-[0-9a-f]+$")


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _tables(con: Connection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name IN ('audit', 'quarantine') AND table_schema = current_schema()"
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def batch_ids_starting(con: Connection, prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` distinct batch ids of the audit log and the quarantine that start
    with ``prefix``, sorted (so an id equal to ``prefix`` comes first)."""
    tables = _tables(con)
    if not tables:
        return []
    like = _like(prefix)
    union = " UNION ".join(
        f"SELECT batch_id FROM {t} WHERE batch_id LIKE ? ESCAPE '\\'" for t in tables
    )
    return [
        str(r[0])
        for r in con.execute(
            f"SELECT batch_id FROM ({union}) ids ORDER BY batch_id LIMIT ?",
            [*(like for _ in tables), limit],
        ).fetchall()
    ]


def resolve_batch_id(store: StoreLike, text: str) -> str:
    """The one batch id ``text`` names: an id of the store, or the prefix of exactly one.

    Refuses (:class:`BatchIdError`) a text that starts no batch id, naming it, and a
    prefix of several, naming the first of them.
    """
    wanted = text.strip()
    if not wanted:
        raise BatchIdError("--batch is empty; give a batch id or its first characters")
    with connect(store, read_only=True) as con:
        ids = batch_ids_starting(con, wanted, limit=SHOWN_MATCHES + 1)
    if ids and (ids[0] == wanted or len(ids) == 1):
        return ids[0]
    if ids:
        more = " and more" if len(ids) > SHOWN_MATCHES else ""
        raise BatchIdError(
            f"batch {wanted!r} is ambiguous: it starts {', '.join(ids[:SHOWN_MATCHES])}{more}; "
            "give more of the batch id"
        )
    raise BatchIdError(
        f"no batch id starts with {wanted!r} in store {open_store(store)}; see the batch ids "
        "with `tidegate quarantine list` or `tidegate audit list`"
    )


def short_batch_ids(store: StoreLike, batch_ids: Iterable[str]) -> dict[str, str]:
    """Each batch id as a table shows it: up to its second (``orders-20261202T101500``)
    when no other batch id of the store starts the same, else whole. Either form is
    accepted back by :func:`resolve_batch_id`."""
    cut = {b: _to_the_second(b) for b in set(batch_ids)}
    prefixes = sorted({p for b, p in cut.items() if p != b})
    if not prefixes:
        return {b: b for b in cut}
    with connect(store, read_only=True) as con:
        tables = _tables(con)
        likes = [_like(p) for p in prefixes]
        where = " OR ".join("batch_id LIKE ? ESCAPE '\\'" for _ in likes)
        union = " UNION ".join(f"SELECT batch_id FROM {t} WHERE {where}" for t in tables)
        known = [str(r[0]) for r in con.execute(union, likes * len(tables)).fetchall()]
    sharing = Counter(p for p in prefixes for k in known if k.startswith(p))
    return {b: p if p != b and sharing[p] == 1 else b for b, p in cut.items()}


def _to_the_second(batch_id: str) -> str:
    """``orders-20261202T101500`` of ``orders-20261202T101500-9f2c41aa-07be``, or the id as it
    is when it is not of that form (a batch id tidegate did not make)."""
    match = _STAMPED.match(batch_id)
    return match.group(1) if match else batch_id
