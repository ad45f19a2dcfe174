"""The quarantine's counts table: records per (source, status, rules text), so the review
queue's summary reads a few rows instead of counting the whole queue on every page.

``quarantine_counts(source, status, rules, n)`` is kept in step in the transaction of
every write that adds, deletes or changes the status or rules of quarantine rows: the
commit of quarantined rows (:func:`count_inserted`, after the insert), a review claim
that changes status or rules (:func:`uncount` before the UPDATE, :func:`count` after),
a reprocess deleting a batch's pending rows (:func:`uncount` before the DELETE), and a
store copy (:func:`recount`, once the rows are in). Keyed by the whole rules text (a few
distinct values), it answers the summary under a rule filter too: the rules that occur
together with the filtered one are in the same key. A key whose records are all gone
keeps ``n = 0`` (readers skip it), so no write deletes and re-inserts a key.

A store made before the table gets it, filled by one GROUP BY over the quarantine, the
next time its tables are ensured (:func:`ensure_quarantine_counts`: `tidegate store
init`, any flow run or review action); a read of a store without it (opened read-only)
counts the quarantine itself.
"""

from __future__ import annotations

from typing import Any

from tidegate.store._tables import column_names

COUNTS_TABLE = "quarantine_counts"
COUNTS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {COUNTS_TABLE} (source VARCHAR NOT NULL, "
    "status VARCHAR NOT NULL, rules VARCHAR NOT NULL, n BIGINT NOT NULL, "
    "PRIMARY KEY (source, status, rules))"
)
GROUPED = "SELECT source, status, rules, count(*) AS n FROM quarantine q"


def _merge(con: Any, where: str, params: list[Any], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the records ``where`` picks (a condition on
    ``q``) to or from their keys."""
    con.execute(
        f"INSERT INTO {COUNTS_TABLE} (source, status, rules, n) "
        f"SELECT source, status, rules, {sign} * count(*) FROM quarantine q WHERE {where} "
        "GROUP BY 1, 2, 3 ON CONFLICT (source, status, rules) "
        f"DO UPDATE SET n = {COUNTS_TABLE}.n + excluded.n",
        params,
    )


def has_counts(con: Any) -> bool:
    return bool(column_names(con, COUNTS_TABLE))


def ensure_quarantine_counts(con: Any) -> None:
    """Make the table unless it is there, counting the records a store already holds."""
    if has_counts(con):
        return
    con.execute(COUNTS_DDL)
    recount(con)


def recount(con: Any) -> None:
    """Count every key again from the quarantine (one GROUP BY)."""
    con.execute(f"DELETE FROM {COUNTS_TABLE}")
    con.execute(f"INSERT INTO {COUNTS_TABLE} (source, status, rules, n) {GROUPED} GROUP BY 1, 2, 3")


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
