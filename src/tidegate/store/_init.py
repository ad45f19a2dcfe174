"""`tidegate store init`: make the store's tables, and on PostgreSQL give a role the
least it needs to run flows and review records.

The role that runs ``init`` owns the tables and the audit triggers. A writer role gets
SELECT and INSERT on ``audit`` and nothing more there, so it can neither change an entry
(the triggers refuse it anyway) nor drop or disable the triggers (only the owner can).
A role that could do those anyway (a superuser, the owner or a member of the owner's
role, a role allowed to set ``session_replication_role``, which silences triggers) is
refused as a writer. Run again, ``init`` renews the triggers and their functions
(:mod:`tidegate.store._pg_triggers`) when they are missing, disabled or older.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tidegate.errors import StoreError
from tidegate.store._connect import transaction
from tidegate.store._location import open_store
from tidegate.store._pii_keys import ensure_pii_keys_table
from tidegate.store._profiles import ensure_profiles_table
from tidegate.store._tables import (
    OWN_TABLES,
    ensure_store_tables,
    quote_ident,
    staging_tables,
    store_tables,
)

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store, StoreLike


@dataclass
class InitReport:
    store: str
    tables: list[str]
    granted: list[str] = field(default_factory=list)  # the GRANT statements that ran
    key_id: str = ""  # the local audit signing key's id
    key_where: str = ""  # its file (or Prefect block)
    key_made: bool = False  # made by this init


def writer_grants(role: str, schema: str, target_tables: list[str]) -> list[str]:
    """What a role that runs flows and review actions needs, and no more."""
    r, s = quote_ident(role), quote_ident(schema)
    statements = [
        # CREATE: a new source's target table. It also lets the role make functions,
        # operators and (on its tables) triggers there; doctor fails on any of those
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT ON audit TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit FROM {r}",
        # the audit's public keys: a writer records its key, never changes one
        f"GRANT SELECT, INSERT ON audit_keys TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_keys FROM {r}",
        # the contract texts batches committed under: recorded once, never changed
        f"GRANT SELECT, INSERT ON contract_versions TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON contract_versions FROM {r}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON quarantine, quarantine_rules, "
        f"quarantine_rule_columns, quarantine_counts, checkpoints, profiles, duplicates TO {r}",
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE quarantine_id_seq TO {r}",
        # the PII key: made on the first PII value, erased by `tidegate store erase-pii-key`
        f"GRANT SELECT, INSERT, UPDATE ON pii_keys TO {r}",
    ]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote_ident(t)} TO {r}" for t in target_tables
    ]
    return statements


# What makes a role able to get around the triggers: superuser, membership in the role that
# owns the audit table (SET ROLE), the right to set session_replication_role (replica mode
# fires no ordinary trigger; PostgreSQL 15 and later can grant it as a parameter privilege).
_WRITER_POWERS_SQL = (
    "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'MEMBER'), pg_get_userbyid(c.relowner), "
    "{replica} FROM pg_roles r, pg_class c WHERE r.rolname = ? AND c.oid = to_regclass('audit')"
)
_MAY_SET_REPLICA_SQL = "has_parameter_privilege(r.oid, 'session_replication_role', 'SET')"


def _refuse_a_powerful_writer(con: duckdb.DuckDBPyConnection, role: str, store: Store) -> None:
    """A writer role must not be able to drop, disable or silence the audit triggers."""
    version = int(con.execute("SHOW server_version_num").fetchall()[0][0])
    replica = _MAY_SET_REPLICA_SQL if version >= 150000 else "false"
    sql = _WRITER_POWERS_SQL.format(replica=replica)
    superuser, member, owner, may_set_replica = con.execute(sql, [role]).fetchall()[0]
    if superuser:
        why = "is a superuser"
    elif member:
        why = f"owns the audit table or is a member of its owner {owner!r}"
    elif may_set_replica:
        why = "may SET session_replication_role (which silences the triggers)"
    else:
        return
    raise StoreError(
        f"role {role!r} {why} in {store}, so it could get around the append-only audit; "
        "grant --grant-writer to a role that is none of these (CREATE ROLE ... LOGIN)"
    )


def init_store(store: StoreLike, writer_roles: list[str] | tuple[str, ...] = ()) -> InitReport:
    """Create the tables (and on PostgreSQL the audit triggers); grant each writer role."""
    store = open_store(store)
    if writer_roles and not store.has_roles:
        raise StoreError(
            f"--grant-writer needs a PostgreSQL store; {store} is a DuckDB file, which "
            "has no roles (protect it with file permissions instead)"
        )
    granted: list[str] = []
    with transaction(store) as con:
        ensure_store_tables(con)
        ensure_profiles_table(con)
        ensure_pii_keys_table(con)
        if store.has_roles:  # PostgreSQL: renew missing, disabled or older triggers
            from tidegate.store._pg_triggers import ensure_audit_guard

            ensure_audit_guard(con, required=True)  # type: ignore[arg-type]
            from tidegate.store._pg_indexes import index_target_tables

            index_target_tables(con)  # by the owner: a writer cannot index its tables
        tables = sorted(store_tables(con))
        if writer_roles:
            schema = con.execute("SELECT current_schema()").fetchall()[0][0]
            targets = [t for t in tables if t not in OWN_TABLES] + sorted(staging_tables(con))
            for role in writer_roles:
                exists = con.execute(
                    "SELECT count(*) FROM pg_roles WHERE rolname = ?", [role]
                ).fetchall()[0][0]
                if not exists:
                    raise StoreError(
                        f"role {role!r} does not exist in {store}; create it first "
                        f"(CREATE ROLE {quote_ident(role)} LOGIN PASSWORD '...')"
                    )
                _refuse_a_powerful_writer(con, role, store)
                for statement in writer_grants(role, schema, targets):
                    con.execute(statement)
                    granted.append(statement)
        if store.has_roles:  # what `audit sql` runs as (tidegate.store._pg_reader)
            from tidegate.store._pg_reader import ensure_reader_role

            schema = con.execute("SELECT current_schema()").fetchall()[0][0]
            granted += ensure_reader_role(con, schema, list(writer_roles))
    from tidegate.store._audit_signer import configured_signer, key_file_path

    made = not key_file_path().exists()
    signer = configured_signer(create=True)
    assert signer is not None  # create=True makes one
    made = made and signer.where == str(key_file_path())
    return InitReport(
        store=str(store),
        tables=tables,
        granted=granted,
        key_id=signer.key_id,
        key_where=signer.where,
        key_made=made,
    )
