"""The quarantine's rules side table: one row per (record, failed rule, column), so the
queue's rule and column filters look rows up by value instead of searching inside every
record's ``errors`` JSON; and beside it ``quarantine_rule_columns(rule, "column")``, the
(rule, column) pairs it has held (``''`` for no column), a few rows, so the summary can
tell a column filter by the rules that name the column (:func:`column_rules`).

``quarantine_rules(quarantine_id, rule, "column")`` is written in the transaction that
writes or changes the quarantine rows it describes: after each insert of quarantine rows
(:func:`index_new_records`), when a review action rewrites a record's errors
(:func:`reindex_records`), and before pending rows of a batch are deleted by a reprocess
(:func:`delete_pending_of_batch`); each write of side rows adds their new pairs (a pair is
never taken away, so the pairs are all the side table holds and perhaps more). Status is
not copied into it: it stays in ``quarantine`` alone, so a replay or reject has nothing to
keep in step here.

A store made before the side table existed gets it (filled from the errors it holds) the
next time its tables are ensured (:func:`ensure_quarantine_rules`: `tidegate store init`,
any flow run or review action). On PostgreSQL it and the quarantine carry the indexes the
queue's filters and keyset pages use; DuckDB scans its columns (zone maps on ``id``) and
has no use for them.
"""

from __future__ import annotations

from typing import Any

from tidegate.store._tables import column_names, is_postgres_connection

RULES_TABLE = "quarantine_rules"
RULES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {RULES_TABLE} (quarantine_id BIGINT NOT NULL, "
    'rule VARCHAR NOT NULL, "column" VARCHAR)'
)
PAIRS_TABLE = "quarantine_rule_columns"
PAIRS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PAIRS_TABLE} (rule VARCHAR NOT NULL, "
    '"column" VARCHAR NOT NULL, PRIMARY KEY (rule, "column"))'
)
# The queue's filters and keyset pages on PostgreSQL (DuckDB scans; see the docstring).
PG_INDEX_DDL = f"""
CREATE INDEX IF NOT EXISTS quarantine_rules_rule ON {RULES_TABLE} (rule, quarantine_id);
CREATE INDEX IF NOT EXISTS quarantine_rules_column ON {RULES_TABLE} ("column", quarantine_id);
CREATE INDEX IF NOT EXISTS quarantine_rules_record ON {RULES_TABLE} (quarantine_id);
CREATE INDEX IF NOT EXISTS quarantine_status_source ON quarantine (status, source, id);
CREATE INDEX IF NOT EXISTS quarantine_created ON quarantine (created_at);
"""


def _error_rows(con: Any, where: str) -> str:
    """SELECT (quarantine_id, rule, column) for every error of the quarantine rows that
    ``where`` picks (a condition on ``q``)."""
    if is_postgres_connection(con):
        return (
            "SELECT q.id, e->>'rule', e->>'column' FROM quarantine q, "
            f"jsonb_array_elements(q.errors::jsonb) e WHERE {where} AND e->>'rule' IS NOT NULL"
        )
    return (
        "SELECT id, e.rule, e.column FROM (SELECT q.id, unnest(from_json(q.errors, "
        """'[{"rule": "VARCHAR", "column": "VARCHAR"}]')) AS e FROM quarantine q """
        f"WHERE {where}) WHERE e.rule IS NOT NULL"
    )


def ensure_quarantine_rules(con: Any) -> None:
    """Make the side table (and on PostgreSQL the queue's indexes) and the pairs unless
    they are there; a store made before them gets its existing records indexed."""
    if not column_names(con, RULES_TABLE):
        con.execute(RULES_DDL)
        con.execute(f"INSERT INTO {RULES_TABLE} {_error_rows(con, 'true')}")
        if is_postgres_connection(con):
            con.execute(PG_INDEX_DDL)
    if not column_names(con, PAIRS_TABLE):
        con.execute(PAIRS_DDL)
        note_pairs(con, "true")


def note_pairs(con: Any, where: str, params: list[Any] | None = None) -> None:
    """Add the (rule, column) pairs of the side rows ``where`` picks (a condition on
    ``quarantine_id`` and the side columns) that are not noted yet."""
    con.execute(
        f'INSERT INTO {PAIRS_TABLE} (rule, "column") SELECT DISTINCT rule, '
        f"coalesce(\"column\", '') FROM {RULES_TABLE} WHERE {where} ON CONFLICT DO NOTHING",
        params or [],
    )


def column_rules(con: Any, column: str) -> list[str] | None:
    """The rules whose every side row names ``column``, if a record fails on ``column``
    exactly when it fails one of them (no rule that names it also names another column
    or none); None when some rule names it and something else (or no pairs table)."""
    if not column_names(con, PAIRS_TABLE):
        return None
    pairs = con.execute(f'SELECT rule, "column" FROM {PAIRS_TABLE}').fetchall()
    rules = {r for r, c in pairs if c == column}
    if any(c != column for r, c in pairs if r in rules):
        return None
    return sorted(rules)


def index_new_records(con: Any) -> None:
    """Index the quarantine rows inserted since the side table was last written (ids are
    handed out in order, so they are the ones above its highest id)."""
    row = con.execute(f"SELECT coalesce(max(quarantine_id), 0) FROM {RULES_TABLE}").fetchone()
    above = int(row[0]) if row else 0
    con.execute(f"INSERT INTO {RULES_TABLE} " + _error_rows(con, "q.id > ?"), [above])
    note_pairs(con, "quarantine_id > ?", [above])


def reindex_records(con: Any, ids_sql: str, params: list[Any] | None = None) -> None:
    """Rewrite the side rows of the records ``ids_sql`` (a SELECT of ids) names, after
    their errors changed."""
    params = params or []
    con.execute(f"DELETE FROM {RULES_TABLE} WHERE quarantine_id IN ({ids_sql})", params)
    con.execute(f"INSERT INTO {RULES_TABLE} {_error_rows(con, f'q.id IN ({ids_sql})')}", params)
    note_pairs(con, f"quarantine_id IN ({ids_sql})", params)


def delete_pending_of_batch(con: Any, batch_id: str) -> None:
    """Delete a batch's pending quarantine rows and their side rows (a reprocess)."""
    from tidegate.store._quarantine_counts import uncount

    pending = "SELECT id FROM quarantine WHERE batch_id = ? AND status = 'pending'"
    uncount(con, "q.batch_id = ? AND q.status = 'pending'", [batch_id])
    con.execute(f"DELETE FROM {RULES_TABLE} WHERE quarantine_id IN ({pending})", [batch_id])
    con.execute("DELETE FROM quarantine WHERE batch_id = ? AND status = 'pending'", [batch_id])
