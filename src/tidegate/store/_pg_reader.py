"""The PostgreSQL store's reader role, ``<database>_<schema>_reader``: what `tidegate
audit sql` runs as.

``store init`` makes it (NOLOGIN, SELECT on the store's tables and nothing else: no
file access, no signalling other sessions, no writes) and lets the writer roles
become it; the query's transaction takes it with ``SET LOCAL ROLE`` whenever the
connecting role may, so a query typed by a person never runs with the rights of the
store's owner or of a superuser. The statement itself is also checked
(:mod:`tidegate.audit._sql`) and runs READ ONLY with a statement timeout
(:mod:`tidegate.store._read_query`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from tidegate.store._tables import quote_ident

READER_SUFFIX = "_reader"


def reader_role_name(schema: str, database: str) -> str:
    """``<database>_<schema>_reader`` (a role belongs to the whole cluster: two databases
    with a schema ``public`` each get their own), cut with a hash to PostgreSQL's 63
    bytes."""
    name = f"{database}_{schema}{READER_SUFFIX}"
    if len(name.encode()) <= 63:
        return name
    tag = hashlib.sha256(f"{database}\0{schema}".encode()).hexdigest()[:12]
    return f"{name.encode()[:40].decode(errors='ignore')}_{tag}{READER_SUFFIX}"


def _reader_of(con: Any) -> str:
    """The reader role's name for the store ``con`` is connected to."""
    from tidegate.store._pg_schema import store_schema

    (database,) = con.execute("SELECT current_database()").fetchall()[0]
    return reader_role_name(store_schema(con), str(database))


def ensure_reader_role(con: Any, schema: str, writer_roles: list[str]) -> list[str]:
    """Make the reader role unless it exists, give it SELECT on every table of the store
    (and on the owner's later ones), and let ``writer_roles`` take it; the statements."""
    reader = _reader_of(con)
    r, s = quote_ident(reader), quote_ident(schema)
    exists, may_create = con.execute(
        "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = ?), "
        "(SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user)",
        [reader],
    ).fetchall()[0]
    if not exists and not may_create:  # doctor says `audit sql` runs as the connecting role
        return [
            f"-- no reader role {reader}: this role may not CREATE ROLE, so `tidegate audit "
            "sql` runs as the role that connects; run `tidegate store init` as a role that may"
        ]
    statements = [] if exists else [f"CREATE ROLE {r} NOLOGIN"]
    statements += [
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {r}",
    ]
    for w in writer_roles:
        statements.append(f"GRANT {r} TO {quote_ident(w)}")
        # a new source's table, made by the writer at run time, readable by the reader
        member = con.execute("SELECT pg_has_role(current_user, ?, 'USAGE')", [w]).fetchall()
        if member[0][0]:
            statements.append(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(w)} IN SCHEMA {s} "
                f"GRANT SELECT ON TABLES TO {r}"
            )
    for statement in statements:
        con.execute(statement)
    return statements


def grant_reader_on(con: Any, tables: list[str]) -> None:
    """SELECT on ``tables`` (made by a copy or a writer) for the reader role, if any."""
    reader = _reader_of(con)
    if con.execute("SELECT count(*) FROM pg_roles WHERE rolname = ?", [reader]).fetchall()[0][0]:
        for t in tables:
            con.execute(f"GRANT SELECT ON {quote_ident(t)} TO {quote_ident(reader)}")


# The role `audit sql` runs as on this connection: the reader role when the connecting
# role may SET ROLE to it, else the connecting role; and whether that one is a superuser.
QUERY_ROLE_SQL = (
    "SELECT coalesce((SELECT r.rolname FROM pg_roles r WHERE r.rolname = ? "
    "AND pg_has_role(session_user, r.oid, 'MEMBER')), current_user), "
    "(SELECT rolsuper FROM pg_roles WHERE rolname = coalesce((SELECT r.rolname FROM "
    "pg_roles r WHERE r.rolname = ? AND pg_has_role(session_user, r.oid, 'MEMBER')), "
    "current_user))"
)


def query_role(con: Any) -> tuple[str, bool]:
    """(role `audit sql` runs as on ``con``, whether it is a superuser)."""
    reader = _reader_of(con)
    role, superuser = con.execute(QUERY_ROLE_SQL, [reader, reader]).fetchall()[0]
    return str(role), bool(superuser)


def become_reader(con: Any) -> str:
    """In the open transaction, ``SET LOCAL ROLE`` to the reader role when this role may;
    returns the role the query runs as."""
    role, _ = query_role(con)
    con.execute(f"SET LOCAL ROLE {quote_ident(role)}")
    return role
