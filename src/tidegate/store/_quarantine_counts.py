"""The quarantine's counts table: records per (source, batch, status, rules text), so the
review queue's summary reads a few rows instead of counting the whole queue on every page.

``quarantine_counts(source, batch_id, status, rules, n, first_at, last_at)`` is kept in
step in the transaction of every write that adds, deletes or changes the status or rules
of quarantine rows: the commit of quarantined rows (:func:`count_inserted`, after the
insert), a review claim that changes status or rules (:func:`uncount` before the UPDATE,
:func:`count` after), a reprocess deleting a batch's pending rows (:func:`uncount` before
the DELETE), and a store copy (:func:`recount`, once the rows are in). Keyed by the whole
rules text (a few distinct values), it answers the summary under a rule filter too: the
rules that occur together with the filtered one are in the same key; and under a column
filter, when the rules name the column (:func:`tidegate.store._quarantine_rules.column_rules`).
A key whose records are all gone keeps ``n = 0`` (readers skip it), so no write deletes
and re-inserts a key.

``first_at``/``last_at`` bound the ``created_at`` of the key's records (a write only
widens them; ``created_at`` never changes), so a time window holds all of a batch whose
keys lie inside it and none of one whose keys lie outside it; only the records of a batch
that straddles a bound are counted from the quarantine (a batch written in one insert
has one ``created_at``, so it never straddles).

A store made before the table (or before its batch and time columns) gets it, filled by
one GROUP BY over the quarantine, the next time its tables are ensured
(:func:`ensure_quarantine_counts`: `tidegate store init`, any flow run or review action);
a read of a store without it (opened read-only) counts the quarantine itself.
"""

from __future__ import annotations

from typing import Any

from tidegate.store._tables import column_names

COUNTS_TABLE = "quarantine_counts"
COUNTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {COUNTS_TABLE} (source VARCHAR NOT NULL, "
    "batch_id VARCHAR NOT NULL, status VARCHAR NOT NULL, rules VARCHAR NOT NULL, "
    "n BIGINT NOT NULL, first_at TIMESTAMP NOT NULL, last_at TIMESTAMP NOT NULL, "
    "PRIMARY KEY (source, batch_id, status, rules))"
)
KEY = "source, batch_id, status, rules"
GROUPED = f"SELECT {KEY}, count(*) AS n, min(created_at), max(created_at) FROM quarantine q"


def _merge(con: Any, where: str, params: list[Any], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the records ``where`` picks (a condition on
    ``q``) to or from their keys."""
    t = COUNTS_TABLE
    con.execute(
        f"INSERT INTO {t} ({KEY}, n, first_at, last_at) "
        f"SELECT {KEY}, {sign} * count(*), min(created_at), max(created_at) FROM quarantine q "
        f"WHERE {where} GROUP BY 1, 2, 3, 4 ON CONFLICT ({KEY}) DO UPDATE SET "
        f"n = {t}.n + excluded.n, first_at = least({t}.first_at, excluded.first_at), "
        f"last_at = greatest({t}.last_at, excluded.last_at)",
        params,
    )


def has_counts(con: Any) -> bool:
    """Whether the store has the table as this module keeps it (with the batch and time
    columns: a store made before them has only the source, status and rules)."""
    return "first_at" in column_names(con, COUNTS_TABLE)


def ensure_quarantine_counts(con: Any) -> None:
    """Make the table unless it is there, counting the records a store already holds (a
    table made before the batch and time columns is made again)."""
    if has_counts(con):
        return
    con.execute(f"DROP TABLE IF EXISTS {COUNTS_TABLE}")
    con.execute(COUNTS_DDL)
    recount(con)


def recount(con: Any) -> None:
    """Count every key again from the quarantine (one GROUP BY)."""
    con.execute(f"DELETE FROM {COUNTS_TABLE}")
    con.execute(
        f"INSERT INTO {COUNTS_TABLE} ({KEY}, n, first_at, last_at) {GROUPED} GROUP BY 1, 2, 3, 4"
    )


def last_id(con: Any) -> int:
    """The highest quarantine id now (the rows inserted after it are the new ones)."""
    row = con.execute("SELECT coalesce(max(id), 0) FROM quarantine").fetchone()
    return int(row[0]) if row else 0


def count_inserted(con: Any, batch_id: str, above: int) -> None:
    """Count the rows of ``batch_id`` just inserted (ids above ``above``; the source's
    lock keeps any other writer off this batch)."""
    _merge(con, "q.batch_id = ? AND q.id > ?", [batch_id, above], 1)


def count(con: Any, where: str, params: list[Any] | None = None) -> None:
    _merge(con, where, params or [], 1)


def uncount(con: Any, where: str, params: list[Any] | None = None) -> None:
    _merge(con, where, params or [], -1)
