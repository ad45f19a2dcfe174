"""Run one read-only SQL query over the store, refusing anything but a read.

Three independent guards, so one mistake is not enough to write:

1. **Parse.** DuckDB's own parser (``duckdb.extract_statements``) must find exactly
   one statement, of type ``SELECT`` (which also covers ``FROM t``, ``WITH ...``,
   ``VALUES``, ``DESCRIBE``, ``SHOW`` and ``SUMMARIZE``). ``INSERT``, ``UPDATE``,
   ``DELETE``, ``CREATE``, ``DROP``, ``ATTACH``, ``COPY``, ``EXPORT``, ``PRAGMA``,
   ``CALL``, ``SET``, ``LOAD``/``INSTALL`` and two statements in one string are
   refused before the store is opened. The parsed statement object is what runs
   on a DuckDB store, so the text cannot be read one way and executed another.
2. **A read-only database.** The store runs the statement where the database itself
   refuses any write, including side effects hidden inside a SELECT (such as
   ``nextval``): a read-only DuckDB connection of its own, a PostgreSQL ``READ ONLY``
   transaction (:meth:`tidegate.store.Store.read_only_query`).
3. **No reach outside the store.** On DuckDB, no access to other files, no ``ATTACH``,
   no URLs, no extension loading, the configuration locked; on either backend the query
   runs in a transaction that is always rolled back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tidegate.errors import AuditQueryError
from tidegate.store import QueryResult, ReadQueryError, open_store

if TYPE_CHECKING:
    import duckdb

    from tidegate.store import Store

__all__ = ["QueryResult", "read_only_statement", "run_read_query"]


def read_only_statement(sql: str) -> duckdb.Statement:
    """The one SELECT statement in ``sql``, or :class:`AuditQueryError` saying why not."""
    import duckdb

    refuse_dangerous_functions(sql)  # first: a PostgreSQL spelling DuckDB cannot parse too
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise AuditQueryError(f"the query does not parse: {exc}") from None
    if not statements:
        raise AuditQueryError(
            'the query is empty; pass one statement such as "SELECT * FROM audit"'
        )
    if len(statements) > 1:
        raise AuditQueryError(
            f"the query holds {len(statements)} statements; `tidegate audit sql` runs exactly "
            "one SELECT (remove the extra ';' and what follows it)"
        )
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        kind = statement.type.name
        raise AuditQueryError(
            f"refused a {kind} statement: `tidegate audit sql` only reads (SELECT, FROM ..., "
            "WITH ..., DESCRIBE, SHOW); change data with the tidegate commands instead"
        )
    return statement


# Functions a query must not call, though a read-only transaction allows them: reading
# the server's files, signalling other sessions, taking a writer's advisory locks,
# sleeping, reaching other databases, changing the role the query runs as, and running
# a query given as text (which would get around this list).
DANGEROUS_FUNCTIONS = re.compile(
    r"""(?ix) (?<![\w$]) "?
    ( pg_read_file | pg_read_binary_file | pg_ls_\w+ | pg_stat_file | pg_file_\w+
    | lo_\w+ | pg_terminate_backend | pg_cancel_backend | pg_signal_backend
    | pg_(?:try_)?advisory_\w+ | pg_sleep\w* | dblink\w* | set_config
    | pg_reload_conf | pg_rotate_logfile | pg_promote | pg_logdir_ls
    | query_to_xml\w* | cursor_to_xml\w* | table_to_xml\w* | schema_to_xml\w*
    | database_to_xml\w* | ts_stat )
    "? \s* \(""",
)


COPY_PROGRAM = re.compile(r"(?is)\bcopy\b.*\bprogram\b")


def refuse_dangerous_functions(sql: str) -> None:
    """:class:`AuditQueryError` naming the first function in ``sql`` that
    `tidegate audit sql` does not run (see :data:`DANGEROUS_FUNCTIONS`)."""
    uncommented = re.sub(r"/\*.*?\*/|--[^\n]*", " ", sql, flags=re.S)  # pg_sleep/**/(1)
    if COPY_PROGRAM.search(uncommented):
        raise AuditQueryError(
            "refused: COPY ... PROGRAM runs a command on the database server; "
            "`tidegate audit sql` only reads (SELECT)"
        )
    if re.search(r'(?i)\bu&"', uncommented):  # U&"pg\0073leep": a name this list would miss
        raise AuditQueryError(
            'refused: a Unicode-escaped name (U&"..."); write table and column names as they are'
        )
    found = DANGEROUS_FUNCTIONS.search(sql) or DANGEROUS_FUNCTIONS.search(uncommented)
    if found:
        raise AuditQueryError(
            f"refused: the query calls {found.group(1)}(), which reads the server's files, "
            "reaches other sessions or databases, waits, or changes the query's role; "
            "`tidegate audit sql` only reads the store's tables (query them by name)"
        )


def run_read_query(
    store: Store, sql: str, *, limit: int = 1000, wait_seconds: float | None = None
) -> QueryResult:
    """Check ``sql`` is one SELECT, then run it read-only; at most ``limit`` rows."""
    if limit < 1:
        raise AuditQueryError(f"--limit {limit} must be 1 or more")
    statement = read_only_statement(sql)
    try:
        return open_store(store).read_only_query(
            sql, limit=limit, wait_seconds=wait_seconds, parsed=statement
        )
    except ReadQueryError as exc:
        raise AuditQueryError(f"the query failed: {exc}") from None
