"""DDL for the store's own tables and for each source's target table."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from tidegate.contracts._model import ColumnSpec, Contract

LINEAGE_BATCH = "_tidegate_batch_id"
STAGING_PREFIX = "_tidegate_staging_"  # staged chunks of files being read; never a target
LINEAGE_RECORD = "_tidegate_record"
# tidegate's own tables; every other table of a store is a source's target table.
# In this order a copy writes the audit last.
OWN_TABLES = (
    "checkpoints",
    "quarantine",
    "quarantine_rules",
    "quarantine_rule_columns",
    "quarantine_counts",
    "profiles",
    "duplicates",
    "pii_keys",
    "audit_keys",
    "contract_versions",
    "audit",
)
# Columns of checkpoints added after stores were first made (ALTER TABLE on an old store).
LATER_CHECKPOINT_COLUMNS = (
    "cursor_column",
    "cursor_value",
    "source_options",
    "source_options_hash",
)
# The tables of this store (DuckDB's main schema, or the PostgreSQL store's schema).
STORE_TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
)

STORE_DDL = """
CREATE SEQUENCE IF NOT EXISTS quarantine_id_seq START 1;
CREATE TABLE IF NOT EXISTS quarantine (
    id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'),
    source VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    location VARCHAR,
    record BIGINT,
    raw VARCHAR NOT NULL,
    normalized VARCHAR,
    errors VARCHAR NOT NULL,
    rules VARCHAR NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'pending',
    version INTEGER NOT NULL DEFAULT 1,
    contract_version INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    edited VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    "at" VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    source VARCHAR,
    batch_id VARCHAR,
    detail VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL,
    key_id VARCHAR,
    signature VARCHAR
);
CREATE TABLE IF NOT EXISTS checkpoints (
    source VARCHAR NOT NULL,
    batch_key VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    location VARCHAR,
    contract_version INTEGER,
    contract_hash VARCHAR,
    rows_in BIGINT,
    loaded BIGINT,
    quarantined BIGINT,
    duplicates BIGINT,
    committed_at TIMESTAMP NOT NULL,
    cursor_column VARCHAR,
    cursor_value VARCHAR,
    source_options VARCHAR,
    source_options_hash VARCHAR
);
"""


def duckdb_type(column: ColumnSpec) -> str:
    ps = column.decimal_precision_scale
    if ps:
        return f"DECIMAL({ps[0]},{ps[1]})"
    return {
        "int64": "BIGINT",
        "float64": "DOUBLE PRECISION",
        "string": "VARCHAR",
        "bool": "BOOLEAN",
        "date": "DATE",
        "datetime": "TIMESTAMP",
    }[column.type]


def dialect_of(con: object) -> str:
    """``duckdb`` or ``postgres``: which engine a store connection speaks (for the few
    statements that differ)."""
    return str(getattr(con, "dialect", "duckdb"))


def is_postgres_connection(con: object) -> bool:
    return dialect_of(con) == "postgres"


def store_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of this store's tables (its own and the sources' target tables), without
    the staging tables of files read in chunks (:mod:`tidegate.store._staging`)."""
    rows = con.execute(STORE_TABLES_SQL).fetchall()
    return {r[0] for r in rows if not str(r[0]).startswith(STAGING_PREFIX)}


PARTITION_ROWS = 10_000_000  # rows one aggregate of a large batch takes at a time (DuckDB)


def value_partitions(con: object, rows: int, columns: list[str]) -> list[str]:
    """Conditions (`` AND hash(...) % n = i``) that split ``rows`` rows into disjoint
    parts by a hash of ``columns``, each small enough for one aggregate within DuckDB's
    memory cap (a value's rows all fall in one part, so per-part counts add up); one
    empty condition when a single part will do, and always on PostgreSQL, whose
    aggregates spill to disk on their own."""
    if is_postgres_connection(con) or rows <= PARTITION_ROWS:
        return [""]
    n = rows // PARTITION_ROWS + 1
    h = f"hash({', '.join(columns)})"
    return [f" AND {h} % {n} = {i}" for i in range(n)]


def staging_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The staging tables of files read in chunks (granted to writers like targets)."""
    rows = con.execute(STORE_TABLES_SQL).fetchall()
    return {r[0] for r in rows if str(r[0]).startswith(STAGING_PREFIX)}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_store_tables(con: duckdb.DuckDBPyConnection) -> None:
    from tidegate.store._audit_keys import ensure_audit_keys
    from tidegate.store._contract_versions import ensure_contract_versions_table
    from tidegate.store._duplicates import ensure_duplicates_table
    from tidegate.store._quarantine_counts import ensure_quarantine_counts
    from tidegate.store._quarantine_rules import ensure_quarantine_rules

    if is_postgres_connection(con):
        from tidegate.store._postgres import ensure_pg_store

        ensure_pg_store(con, STORE_DDL)  # type: ignore[arg-type]
        ensure_duplicates_table(con)
        ensure_contract_versions_table(con)
        ensure_audit_keys(con)
        ensure_quarantine_rules(con)
        ensure_quarantine_counts(con)
        return
    ensure_duplicates_table(con)
    ensure_contract_versions_table(con)
    con.execute(STORE_DDL)
    have = column_names(con, "quarantine")
    for column in ("edited", "reason"):  # stores made before the review columns existed
        if column not in have:
            con.execute(f"ALTER TABLE quarantine ADD COLUMN {column} VARCHAR")
    add_later_checkpoint_columns(con)
    ensure_audit_keys(con)
    ensure_quarantine_rules(con)
    ensure_quarantine_counts(con)


def column_names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of one of this store's tables, in order (none: no such table)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [str(r[0]) for r in rows]


def add_later_checkpoint_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the checkpoint columns a store made by an older tidegate lacks (both stores)."""
    have = column_names(con, "checkpoints")
    for column in LATER_CHECKPOINT_COLUMNS:
        if column not in have:
            con.execute(f"ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS {column} VARCHAR")


def ensure_target_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the source's target table, or add columns a newer contract declares."""
    table = quote_ident(contract.target_table)
    cols = [f"{quote_ident(c.name)} {duckdb_type(c)}" for c in contract.columns]
    cols += [f"{LINEAGE_BATCH} VARCHAR NOT NULL", f"{LINEAGE_RECORD} BIGINT"]
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = current_schema()",
            [contract.target_table],
        ).fetchall()
    }
    for c in contract.columns:
        if c.name not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(c.name)} {duckdb_type(c)}")


def ensure_pg_target_indexes(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Indexes of a PostgreSQL target table, on the lineage batch id (reprocess deletes by
    it) and the primary key (on_existing_key and trace look rows up by it). Made after a
    batch's rows are in (building an index once is cheaper than growing it row by row),
    so a table's first load gets them too; a table made by `tidegate store copy` gets
    them there (:func:`tidegate.store._pg_indexes.index_target_tables`)."""
    ensure_pg_indexes(con, contract.target_table, contract.primary_key)


def ensure_pg_indexes(
    con: duckdb.DuckDBPyConnection, name: str, primary_key: tuple[str, ...]
) -> None:
    """The indexes of target table ``name`` that are missing, made when this role owns
    the table: a writer role (``store init --grant-writer``) cannot make an index on a
    table the owner made, and does not need to, the owner made them at init or copy."""
    rows = con.execute(
        "SELECT i.indexname, pg_has_role(c.relowner, 'USAGE') FROM pg_class c "
        "LEFT JOIN pg_indexes i ON i.schemaname = current_schema() AND i.tablename = c.relname "
        "WHERE c.oid = to_regclass(?)",
        [quote_ident(name)],
    ).fetchall()
    if not rows or not rows[0][1]:
        return  # not there, or not this role's to index
    have = {r[0] for r in rows if r[0] is not None}
    tag = hashlib.sha256(name.encode()).hexdigest()[:12]  # short: PostgreSQL cuts at 63
    wanted = {f"tg_{tag}_batch": LINEAGE_BATCH}
    if primary_key:
        wanted[f"tg_{tag}_key"] = ", ".join(quote_ident(k) for k in primary_key)
    for index, columns in wanted.items():
        if index not in have:
            con.execute(f"CREATE INDEX {quote_ident(index)} ON {quote_ident(name)} ({columns})")
