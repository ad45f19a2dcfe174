"""DDL for the store's own tables and for each source's target table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.contracts._model import ColumnSpec, Contract

if TYPE_CHECKING:
    import duckdb

LINEAGE_BATCH = "_tidegate_batch_id"
LINEAGE_RECORD = "_tidegate_record"

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
    hash VARCHAR NOT NULL
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
    cursor_value VARCHAR
);
"""


def duckdb_type(column: ColumnSpec) -> str:
    ps = column.decimal_precision_scale
    if ps:
        return f"DECIMAL({ps[0]},{ps[1]})"
    return {
        "int64": "BIGINT",
        "float64": "DOUBLE",
        "string": "VARCHAR",
        "bool": "BOOLEAN",
        "date": "DATE",
        "datetime": "TIMESTAMP",
    }[column.type]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_store_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STORE_DDL)
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'quarantine'"
        ).fetchall()
    }
    for column in ("edited", "reason"):  # stores made before the review columns existed
        if column not in have:
            con.execute(f"ALTER TABLE quarantine ADD COLUMN {column} VARCHAR")
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'checkpoints'"
        ).fetchall()
    }
    for column in ("cursor_column", "cursor_value"):  # stores made before SQL watermarks
        if column not in have:
            con.execute(f"ALTER TABLE checkpoints ADD COLUMN {column} VARCHAR")


def ensure_target_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the source's target table, or add columns a newer contract declares."""
    table = quote_ident(contract.target_table)
    cols = [f"{quote_ident(c.name)} {duckdb_type(c)}" for c in contract.columns]
    cols += [f"{LINEAGE_BATCH} VARCHAR NOT NULL", f"{LINEAGE_RECORD} BIGINT"]
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [contract.target_table],
        ).fetchall()
    }
    for c in contract.columns:
        if c.name not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(c.name)} {duckdb_type(c)}")
