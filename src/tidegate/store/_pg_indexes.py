"""What the owner of a PostgreSQL store makes for its writer roles at ``store init`` and
``store copy``: the target tables' indexes, and the writers' grants on tables the copy
made. A writer role cannot make an index on a table it does not own, so a run never
has to (:func:`tidegate.store._tables.ensure_pg_indexes` leaves another's table alone).
"""

from __future__ import annotations

from typing import Any

from tidegate.store._tables import (
    OWN_TABLES,
    ensure_pg_indexes,
    quote_ident,
    store_tables,
)

# Roles given the writer grants (`store init --grant-writer`): they may append to the
# audit, and are not its owner.
_WRITER_ROLES_SQL = (
    "SELECT DISTINCT grantee FROM information_schema.role_table_grants "
    "WHERE table_schema = current_schema() AND table_name = 'audit' "
    "AND privilege_type = 'INSERT' AND grantee <> "
    "(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('audit'))"
)


def _primary_keys(con: Any) -> dict[str, tuple[str, ...]]:
    """Each source's primary key, from the newest contract text it committed under."""
    import yaml

    rows = con.execute(
        "SELECT source, contract_text FROM contract_versions ORDER BY first_committed_at"
    ).fetchall()
    keys: dict[str, tuple[str, ...]] = {}
    for source, text in rows:
        try:
            key = (yaml.safe_load(text) or {}).get("primary_key") or ()
        except (yaml.YAMLError, AttributeError):
            continue
        keys[str(source)] = (key,) if isinstance(key, str) else tuple(str(k) for k in key)
    return keys


def index_target_tables(con: Any) -> list[str]:
    """Make the missing indexes of every target table this role owns (batch id, and the
    primary key its newest committed contract declares); returns the tables looked at."""
    targets = sorted(t for t in store_tables(con) if t not in OWN_TABLES)
    keys = _primary_keys(con)
    for table in targets:
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?",
                [table],
            ).fetchall()
        }
        key = tuple(k for k in keys.get(table, ()) if k in columns)
        ensure_pg_indexes(con, table, key if len(key) == len(keys.get(table, ())) else ())
    return targets


def grant_writers_on(con: Any, tables: list[str]) -> list[str]:
    """Give every writer role of the store the writer grants on ``tables`` (made after
    ``store init --grant-writer`` ran, e.g. by ``store copy``); the statements run."""
    roles = [str(r[0]) for r in con.execute(_WRITER_ROLES_SQL).fetchall()]
    statements = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote_ident(t)} TO {quote_ident(role)}"
        for role in roles
        for t in tables
    ]
    for statement in statements:
        con.execute(statement)
    return statements
