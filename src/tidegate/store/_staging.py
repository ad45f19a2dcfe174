"""Staging: a large file's chunks written under a stage id, published in one transaction.

A file read in chunks is staged chunk by chunk, each chunk in its own short
transaction (the writer lock is held for one chunk at a time, so a review action or
another source's commit is never kept waiting for a whole file):

* every typed row of the chunk goes into the source's staging table (the target's
  columns plus the stage id, the record, the chunk number and whether the row passed
  its own checks); on DuckDB into a Parquet file of the chunk instead, beside the store
  (``<store>.staged/<staging table>/<stage id>/``, uncompressed: about the size of
  the input on disk), which the publication reads as a table, so each staged row is
  compressed once, into the target, and
* every quarantine row of the chunk into the shared quarantine staging table.

Nothing staged is visible in a target table or the quarantine. The batch is then
published by one transaction (:class:`Publication`): the rules that span the whole
batch run in SQL over the staged rows (a value repeated across chunks under
``unique``, a primary key repeated anywhere in the file, keys already in the target),
the engine decides whether the batch is held, and the staged rows are copied into the
target and the quarantine with the checkpoint and the audit entry. A crash (kill -9)
at any point before that transaction commits leaves only staged rows under a stage id
that no checkpoint names (and staged files that none names); the next run of the
source deletes them (:func:`clear_staging`), so a batch is published whole or not at all.

The last chunks of a file (at most ``hold_bytes`` of routed rows, the ones not written
yet when the file ends) are not staged at all: they are *held* in this process's memory
(:mod:`tidegate.store._held_chunks`, by stage id) and publication reads them where they are (DuckDB
scans them as Arrow beside the staging table; PostgreSQL copies them into it inside the
publishing transaction), so a file that fits in the hold is written once, into the
target, instead of staged and copied. Held rows live no longer than the process, so a
kill loses nothing that was committed and leaves nothing to clean.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate.batches import RECORD_COLUMN, duplicate_rows
from tidegate.contracts._model import Contract
from tidegate.errors import StoreError
from tidegate.rules import DUPLICATE_KEY_RULE, EXISTING_KEY_RULE
from tidegate.store._committed import BatchOutcome, CommittedBatch, _audit_skip, find_committed
from tidegate.store._connect import fetch_one, transaction
from tidegate.store._duckdb import DuckDBStore
from tidegate.store._duplicates import insert_duplicates
from tidegate.store._held_chunks import Chunks, forget_held, forget_source, held_chunks
from tidegate.store._held_rules import HeldRules, held_batch_rules, newly_failing
from tidegate.store._held_stats import held_loaded_stats, remember_loaded_stats
from tidegate.store._quarantine_counts import count_inserted, last_id
from tidegate.store._quarantine_rules import index_new_records
from tidegate.store._row_writes import _replace_earlier, arrow_view, utc_now
from tidegate.store._tables import (
    LINEAGE_BATCH,
    STAGING_PREFIX,
    column_names,
    duckdb_type,
    ensure_pg_target_indexes,
    ensure_store_tables,
    ensure_target_table,
    is_postgres_connection,
    quote_ident,
    value_partitions,
)

if TYPE_CHECKING:
    import duckdb

    from tidegate.store._protocol import Store

QUARANTINE_STAGING = "_tidegate_staging_quarantine"
CHUNK_COLUMN = "_tidegate_chunk"
PASSED_COLUMN = "_tidegate_passed"  # the row passed its own checks (a load candidate)
_FINDINGS = "_tg_batch_findings"  # temporary, inside a publication
_EXACT = "_tg_exact_repeats"
_EXACT_ROWS = "_tg_exact_rows"  # the exact repeats with their values, for `duplicates`
_HELD_VIEW = "_tg_held_rows"  # the held chunks' typed rows, inside a publication (DuckDB)
DUPLICATES_PAGE = 50_000  # exact repeats read (and hashed) at a time at publication
LOADABLE_PAGE = 100_000  # rows fetched at a time for the batch expectations (PostgreSQL)

QUARANTINE_STAGING_COLUMNS = ("record", "raw", "normalized", "errors", "rules")


def staging_table(contract: Contract) -> str:
    """The staging table of a source's target table (a short name: PostgreSQL cuts at 63)."""
    tag = hashlib.sha256(contract.target_table.encode()).hexdigest()[:16]
    return f"{STAGING_PREFIX}{tag}"


STAGE_ID = re.compile(r"stage-[0-9a-f]{16}")


def new_stage_id() -> str:
    return f"stage-{secrets.token_hex(8)}"


STAGED_FILES_SUFFIX = ".staged"  # beside a DuckDB store's file: <store>.staged/<table>/


def _staged_folder(store: Store, contract: Contract) -> Path | None:
    """Where a DuckDB store stages a source's typed rows, as Parquet files (one folder
    per stage id); None for PostgreSQL, which stages them in its staging table.

    An uncompressed Parquet file costs polars about a fifth of the CPU a DuckDB table
    costs to write (no compression analysis, no row groups to version), and DuckDB reads
    it back nearly as fast as its own table: a staged row is compressed once, into the
    target."""
    if not isinstance(store, DuckDBStore):
        return None
    return Path(f"{store.path}{STAGED_FILES_SUFFIX}") / staging_table(contract)


def _staged_files(folder: Path | None, stage_id: str) -> list[Path]:
    """The Parquet files staged under ``stage_id``, in chunk order."""
    if folder is None or not (folder / stage_id).is_dir():
        return []
    return sorted((folder / stage_id).glob("chunk-*.parquet"))


def _write_staged_file(
    folder: Path, contract: Contract, stage_id: str, number: int, typed: pl.DataFrame
) -> None:
    """A chunk's typed rows as one Parquet file (typed as the contract declares, so that
    every file of a stage reads back with the staging table's types); written under a
    temporary name first, so a file under its own name is always whole."""
    from tidegate.contracts._types import polars_dtype

    schema = {c.name: polars_dtype(c) for c in contract.columns}
    rows = typed.select(
        *(pl.col(c).cast(t) for c, t in schema.items()),
        RECORD_COLUMN,
        pl.lit(number, pl.Int32).alias(CHUNK_COLUMN),
        PASSED_COLUMN,
    )
    where = folder / stage_id
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"chunk-{number:09d}.parquet"
    partial = path.with_suffix(".partial")
    try:
        rows.write_parquet(partial, compression="uncompressed", statistics=False)
    except (OSError, pl.exceptions.ComputeError) as exc:  # polars: a full disk, as well
        partial.unlink(missing_ok=True)
        reason = " ".join(str(exc).split()).removeprefix("parquet: File out of specification: ")
        raise StoreError(
            f"cannot stage the rows of source {contract.source!r} in {where} ({reason}); "
            "a file read in chunks is staged beside the store until it is published, "
            "uncompressed (about the size of the file): free some space there, or point "
            "--store (TIDEGATE_STORE) at a disk with room; nothing of the file was "
            "published, and the next run reads it again"
        ) from None
    os.replace(partial, path)


def _remove_staged_files(folder: Path | None, stage_id: str | None = None) -> None:
    """Delete a stage's Parquet files (every stage of the folder: ``stage_id`` None)."""
    if folder is None:
        return
    shutil.rmtree(folder if stage_id is None else folder / stage_id, ignore_errors=True)


def _create(con: duckdb.DuckDBPyConnection) -> str:
    return "CREATE UNLOGGED TABLE" if is_postgres_connection(con) else "CREATE TABLE"


def _ensure_staging(con: duckdb.DuckDBPyConnection, contract: Contract) -> str:
    """Make the staging tables (again, when the contract's columns changed); the name."""
    ensure_store_tables(con)
    ensure_target_table(con, contract)
    name = staging_table(contract)
    columns = [(c.name, duckdb_type(c)) for c in contract.columns]
    columns += [
        (LINEAGE_BATCH, "VARCHAR NOT NULL"),
        (RECORD_COLUMN, "BIGINT NOT NULL"),
        (CHUNK_COLUMN, "INTEGER NOT NULL"),
        (PASSED_COLUMN, "BOOLEAN NOT NULL"),
    ]
    have = column_names(con, name)
    if have != [c for c, _ in columns]:
        if have:
            con.execute(f"DROP TABLE {quote_ident(name)}")
        ddl = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns)
        con.execute(f"{_create(con)} {quote_ident(name)} ({ddl})")
    if not column_names(con, QUARANTINE_STAGING):
        con.execute(
            f"{_create(con)} {QUARANTINE_STAGING} (stage_id VARCHAR NOT NULL, "
            "source VARCHAR NOT NULL, record BIGINT, raw VARCHAR NOT NULL, normalized VARCHAR, "
            "errors VARCHAR NOT NULL, rules VARCHAR NOT NULL)"
        )
    return name


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append a frame's rows to ``table`` (columns by name)."""
    if frame.is_empty():
        return
    if is_postgres_connection(con):
        con.copy_into(table, frame)  # type: ignore[attr-defined]
        return
    cols = ", ".join(quote_ident(c) for c in frame.columns)
    con.register("_tg_rows", arrow_view(frame))
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _tg_rows")
    finally:
        con.unregister("_tg_rows")


def _held_frames(
    contract: Contract, stage_id: str, expected_rows: int
) -> tuple[list[pl.DataFrame], pl.DataFrame | None]:
    """The held chunks of ``stage_id`` (:mod:`tidegate.store._held_chunks`): their typed
    rows (a frame per chunk, with its chunk number) and their quarantine rows as one
    frame (None: nothing held)."""
    chunks = held_chunks(stage_id, expected_rows)
    if not chunks:
        return [], None
    names = [*contract.column_names, RECORD_COLUMN, PASSED_COLUMN]
    typed = [
        t.select(names).with_columns(pl.lit(number, pl.Int32).alias(CHUNK_COLUMN))
        for number, t, _ in chunks
    ]
    quarantine = pl.concat(
        [_quarantine_rows(contract, stage_id, q) for _, _, q in chunks], how="vertical_relaxed"
    )
    return typed, quarantine


def _held_arrow(frames: list[pl.DataFrame]) -> Any:
    """The held typed rows as one Arrow table for DuckDB, without copying them (the
    chunks' buffers side by side) when their types agree."""
    import pyarrow as pa

    try:
        return pa.concat_tables([arrow_view(f) for f in frames])
    except pa.ArrowInvalid:  # a column typed differently by one chunk (all nulls, say)
        return arrow_view(pl.concat(frames, how="vertical_relaxed"))


def _staging_rows(
    contract: Contract, stage_id: str, number: int, typed: pl.DataFrame
) -> pl.DataFrame:
    """A chunk's typed rows with the staging table's columns, in its order."""
    return typed.select(
        *contract.column_names,
        pl.lit(stage_id).alias(LINEAGE_BATCH),
        RECORD_COLUMN,
        pl.lit(number, pl.Int32).alias(CHUNK_COLUMN),
        PASSED_COLUMN,
    )


def _quarantine_rows(contract: Contract, stage_id: str, quarantine: pl.DataFrame) -> pl.DataFrame:
    return quarantine.select(QUARANTINE_STAGING_COLUMNS).with_columns(
        pl.lit(stage_id).alias("stage_id"), pl.lit(contract.source).alias("source")
    )


def stage_chunks(
    store: Store,
    contract: Contract,
    stage_id: str,
    chunks: Chunks,
    *,
    first: bool,
) -> None:
    """Stage chunks in one short transaction: each chunk's number, its typed rows (the
    contract's columns, ``_tidegate_record`` and ``_tidegate_passed``) and its quarantine
    rows. ``first``: the batch's first write (the staging tables are made if need be).
    On DuckDB the typed rows go into Parquet files beside the store (:func:`_staged_folder`),
    written before the transaction; the quarantine rows into the quarantine staging table."""
    folder = _staged_folder(store, contract)
    if folder is not None:
        for number, typed, _ in chunks:
            _write_staged_file(folder, contract, stage_id, number, typed)
    with transaction(store) as con:
        table = _ensure_staging(con, contract) if first else staging_table(contract)
        for number, typed, quarantine in chunks:
            if folder is None:
                _insert(con, quote_ident(table), _staging_rows(contract, stage_id, number, typed))
            _insert(con, QUARANTINE_STAGING, _quarantine_rows(contract, stage_id, quarantine))


def _delete_staged(
    con: duckdb.DuckDBPyConnection, contract: Contract, stage_id: str | None
) -> None:
    table = quote_ident(staging_table(contract))
    if not column_names(con, staging_table(contract)):
        return
    if stage_id is None:  # every staged row of the source: a killed run's leftovers
        con.execute(f"DELETE FROM {table}")
        con.execute(f"DELETE FROM {QUARANTINE_STAGING} WHERE source = ?", [contract.source])
        return
    con.execute(f"DELETE FROM {table} WHERE {LINEAGE_BATCH} = ?", [stage_id])
    con.execute(f"DELETE FROM {QUARANTINE_STAGING} WHERE stage_id = ?", [stage_id])


def clear_staging(store: Store, contract: Contract) -> None:
    """Delete what runs of this source staged and never published (a run killed part-way).

    Called at the start of a run, under the source's run lock, so no batch of the source
    is being staged meanwhile."""
    forget_source(contract.source)
    _remove_staged_files(_staged_folder(store, contract))
    if not store.exists():
        return
    with transaction(store) as con:
        _delete_staged(con, contract, None)


def discard_staged(store: Store, contract: Contract, stage_id: str) -> None:
    """Delete one stage id's rows (a file found unreadable or changed part-way); best
    effort: what is left is deleted by the source's next run."""
    forget_held(stage_id)
    _remove_staged_files(_staged_folder(store, contract), stage_id)
    with suppress(Exception), transaction(store) as con:
        _delete_staged(con, contract, stage_id)


def _inserted(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    """Run one INSERT; how many rows it inserted (DuckDB returns the count as a row,
    PostgreSQL on the cursor)."""
    cursor = con.execute(sql, params)
    if is_postgres_connection(con):
        return int(cursor.rowcount)
    row = cursor.fetchall()
    return int(row[0][0]) if row else 0


@dataclass(frozen=True)
class BatchRules:
    """What the whole-batch rules found over the staged rows."""

    exact: int  # rows repeating an earlier row's key with the same values (duplicates)
    exact_records: tuple[int, ...]  # the first 100 of them
    newly_failing: int  # rows that passed their chunk's checks but fail a batch rule


class Publication:
    """One batch's publication, inside one transaction (see the module docstring)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        contract: Contract,
        stage_id: str,
        held: tuple[list[pl.DataFrame], pl.DataFrame | None] = ([], None),
        files: list[Path] | None = None,
    ) -> None:
        if not STAGE_ID.fullmatch(stage_id):  # it is written into SQL text below
            raise ValueError(f"not a stage id: {stage_id!r}")
        self.con = con
        self.contract = contract
        self.stage_id = stage_id
        table = quote_ident(_ensure_staging(con, contract))  # none yet if all was held
        self.staged = table
        self.rows = 0  # staged rows, counted by find_batch_rules
        if not is_postgres_connection(con):  # this connection only: a copy of 100M rows
            con.execute("SET preserve_insertion_order = false")  # spills instead of failing
        typed, quarantine = held
        # every row held, none staged: the whole-batch rules run over the frames (polars)
        self.held = typed if typed and not files and not self._any_staged(table) else []
        self.loaded_stats: tuple[str, dict[str, Any]] | None = None  # (batch id, stats)
        if quarantine is not None:
            _insert(con, QUARANTINE_STAGING, quarantine)
        if typed and is_postgres_connection(con):  # staged in the publishing transaction
            for frame in typed:
                number = int(frame.get_column(CHUNK_COLUMN)[0]) if frame.height else 0
                _insert(con, table, _staging_rows(contract, stage_id, number, frame))
        elif typed or files:  # DuckDB reads the staged files and the held rows where they are
            lineage = f"CAST('{stage_id}' AS VARCHAR) AS {LINEAGE_BATCH}"
            rest = [lineage, RECORD_COLUMN, CHUNK_COLUMN, PASSED_COLUMN]
            parts = []
            if files:
                listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
                typed_as = [
                    f"CAST({quote_ident(c.name)} AS {duckdb_type(c)}) AS {quote_ident(c.name)}"
                    for c in contract.columns
                ]
                parts.append(f"SELECT {', '.join(typed_as + rest)} FROM read_parquet([{listed}])")
            if typed:
                con.register(_HELD_VIEW, _held_arrow(typed))
                names = [quote_ident(c) for c in contract.column_names]
                parts.append(f"SELECT {', '.join(names + rest)} FROM {_HELD_VIEW}")
            self.staged = f"({' UNION ALL '.join(parts)})"
        self.target = quote_ident(contract.target_table)
        con.execute(f"DROP TABLE IF EXISTS {_FINDINGS}")
        con.execute(f"DROP TABLE IF EXISTS {_EXACT}")
        con.execute(f"DROP TABLE IF EXISTS {_EXACT_ROWS}")
        con.execute(
            f"CREATE TEMPORARY TABLE {_EXACT_ROWS} (record BIGINT NOT NULL, "
            "first_record BIGINT NOT NULL, "
            + ", ".join(f"{quote_ident(c.name)} {duckdb_type(c)}" for c in contract.columns)
            + ")"
        )
        con.execute(
            f"CREATE TEMPORARY TABLE {_FINDINGS} (record BIGINT NOT NULL, rule VARCHAR NOT NULL, "
            "col VARCHAR, first_record BIGINT)"
        )
        con.execute(
            f"CREATE TEMPORARY TABLE {_EXACT} "
            "(record BIGINT NOT NULL, first_record BIGINT NOT NULL)"
        )

    def _any_staged(self, table: str) -> bool:
        """Has this stage id rows in the staging table (before held rows are added)?"""
        return bool(
            fetch_one(
                self.con,
                f"SELECT 1 FROM {table} WHERE {LINEAGE_BATCH} = ? LIMIT 1",
                [self.stage_id],
            )
        )

    def _count(self, sql: str, params: list[Any]) -> int:
        row = fetch_one(self.con, sql, params)
        return int(row[0]) if row and row[0] is not None else 0

    def _listed(self, table: str, *, listed: bool = True) -> str:
        """`` AND`` staged row ``s`` is (or is not) among the records of ``table``. On
        DuckDB an uncorrelated ``IN``, whose hash table is built on the (small) list: a
        correlated EXISTS there is planned as a join that first materializes every
        staged row, which a batch of 100M rows cannot afford under the memory cap.
        PostgreSQL plans (NOT) EXISTS as a hash (anti-)join."""
        record = f"s.{RECORD_COLUMN}"
        if is_postgres_connection(self.con):
            exists = f"EXISTS (SELECT 1 FROM {table} x WHERE x.record = {record})"
            return f" AND {exists}" if listed else f" AND NOT {exists}"
        return f" AND {record} {'IN' if listed else 'NOT IN'} (SELECT record FROM {table})"

    # -- skip and reprocess -------------------------------------------------------------

    def committed(self, source: str, batch_key: str) -> CommittedBatch | None:
        return find_committed(self.con, source, batch_key)

    def skip(
        self, location: str, batch_key: str, earlier: CommittedBatch, actor: str
    ) -> BatchOutcome:
        """Audit that the content was committed already; the staged rows are dropped."""
        _delete_staged(self.con, self.contract, self.stage_id)
        source = self.contract.source
        return _audit_skip(self.con, source, location, batch_key, earlier, self.contract, actor)

    def replace(self, earlier: CommittedBatch) -> dict[str, int]:
        """``--reprocess``: the earlier batch of this content leaves the target."""
        return _replace_earlier(self.con, self.contract, earlier)

    # -- the whole-batch rules ----------------------------------------------------------

    def find_batch_rules(self) -> BatchRules:
        """``unique`` values repeated across chunks, then primary keys repeated anywhere
        in the batch (an exact repeat is a duplicate, a repeat with other values a
        finding against the first occurrence)."""
        if self.held:  # every row in memory: the same rules in polars (None: in SQL)
            self.rows = sum(f.height for f in self.held)
            found = held_batch_rules(self.held, self.contract)
            if found is not None:
                return self._write_held_rules(found)
        con, staged, stage = self.con, self.staged, [self.stage_id]
        key = self.contract.primary_key
        self.rows = self._count(f"SELECT count(*) FROM {staged} WHERE {LINEAGE_BATCH} = ?", stage)
        for column in self.contract.columns:
            if column.unique and key != (column.name,):
                self._repeats_across_chunks(f"{column.name}.unique", (column.name,))
        for spec in self.contract.expectations.uniqueness if self.contract.expectations else ():
            self._repeats_across_chunks(spec.rule_id, spec.columns)
        if key:
            self._key_repeats(key)
        exact = self._count(f"SELECT count(*) FROM {_EXACT}", [])
        first = con.execute(f"SELECT record FROM {_EXACT} ORDER BY record LIMIT 100").fetchall()
        newly = self._count(
            f"SELECT count(*) FROM {staged} s WHERE s.{LINEAGE_BATCH} = ? AND s.{PASSED_COLUMN}"
            + self._listed(_FINDINGS),
            stage,
        )
        return BatchRules(exact, tuple(int(r[0]) for r in first), newly)

    def _write_held_rules(self, found: HeldRules) -> BatchRules:
        """The rules found over the held rows, into the tables the SQL fills."""
        exact = found.exact
        _insert(self.con, _FINDINGS, found.findings)
        _insert(self.con, _EXACT, exact.select("record", "first_record"))
        _insert(self.con, _EXACT_ROWS, exact)
        first = exact.get_column("record").sort().head(100).to_list()
        return BatchRules(exact.height, tuple(first), newly_failing(self.held, found.findings))

    def _repeats_across_chunks(self, rule: str, columns: tuple[str, ...]) -> None:
        """The findings of a uniqueness rule (a column's ``unique: true``, a GX uniqueness
        expectation): every row whose value (or combination, nulls equal, all-null rows
        skipped) is staged by more than one chunk; the repeats within a chunk the chunk
        found itself. One finding per column it reads."""
        staged = self.staged
        cols = [quote_ident(c) for c in columns]
        some = " OR ".join(f"{c} IS NOT NULL" for c in cols)
        same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM g.{c}" for c in cols)
        for part in value_partitions(self.con, self.rows, cols):
            repeated = (
                f"SELECT {', '.join(cols)} FROM {staged} WHERE {LINEAGE_BATCH} = ?{part} "
                f"AND ({some}) GROUP BY {', '.join(cols)} "
                f"HAVING count(DISTINCT {CHUNK_COLUMN}) > 1"
            )
            for column in columns:
                self.con.execute(
                    f"INSERT INTO {_FINDINGS} (record, rule, col) SELECT s.{RECORD_COLUMN}, "
                    f"CAST(? AS VARCHAR), CAST(? AS VARCHAR) FROM {staged} s "
                    f"JOIN ({repeated}) g ON {same} WHERE s.{LINEAGE_BATCH} = ?",
                    [rule, column, self.stage_id, self.stage_id],
                )

    def _key_repeats(self, key: tuple[str, ...]) -> None:
        keys = ", ".join(quote_ident(k) for k in key)
        on = " AND ".join(f"r.{quote_ident(k)} = g.{quote_ident(k)}" for k in key)
        same = " AND ".join(
            f"r.{quote_ident(c)} IS NOT DISTINCT FROM f.{quote_ident(c)}"
            for c in self.contract.column_names
        )
        unlisted = self._listed(_FINDINGS, listed=False)
        candidates = (
            f"(SELECT * FROM {self.staged} s WHERE s.{LINEAGE_BATCH} = ? "
            f"AND s.{PASSED_COLUMN}{unlisted})"
        )
        # Three steps: the keys that repeat (an aggregate over the staged rows, in parts
        # by a hash of the key when the batch is large, so that each part fits DuckDB's
        # memory cap; the result is small), the rows with one of those keys (one more
        # scan; as small), then each of them beside its key's first row, among those.
        repeated = (
            f"SELECT {keys}, min({RECORD_COLUMN}) AS first_record FROM {self.staged} s "
            f"WHERE s.{LINEAGE_BATCH} = '{self.stage_id}' AND s.{PASSED_COLUMN}{unlisted}"
        )
        parts = value_partitions(self.con, self.rows, [f"s.{quote_ident(k)}" for k in key])
        self.con.execute(
            f"CREATE TEMPORARY TABLE _tg_repeated_keys AS {repeated}{parts[0]} "
            f"GROUP BY {keys} HAVING count(*) > 1"
        )
        for part in parts[1:]:
            self.con.execute(
                f"INSERT INTO _tg_repeated_keys {repeated}{part} "
                f"GROUP BY {keys} HAVING count(*) > 1"
            )
        self.con.execute(
            "CREATE TEMPORARY TABLE _tg_repeats "
            "(record BIGINT NOT NULL, first_record BIGINT NOT NULL, exact BOOLEAN NOT NULL)"
        )
        self.con.execute(
            "CREATE TEMPORARY TABLE _tg_key_rows AS SELECT r.*, g.first_record AS _tg_first "
            f"FROM {candidates} r JOIN _tg_repeated_keys g ON {on}",
            [self.stage_id],
        )
        self.con.execute(
            "INSERT INTO _tg_repeats (record, first_record, exact) "
            f"SELECT r.{RECORD_COLUMN}, r._tg_first, ({same}) FROM _tg_key_rows r "
            f"JOIN _tg_key_rows f ON f.{RECORD_COLUMN} = r._tg_first "
            f"WHERE r.{RECORD_COLUMN} <> r._tg_first"
        )
        self.con.execute("DROP TABLE _tg_repeated_keys")
        self.con.execute(
            f"INSERT INTO {_EXACT} (record, first_record) "
            "SELECT record, first_record FROM _tg_repeats WHERE exact"
        )
        # the exact repeats' values, for the duplicates table (no second scan of the batch)
        picks = ", ".join(f"r.{quote_ident(c)}" for c in self.contract.column_names)
        self.con.execute(
            f"INSERT INTO {_EXACT_ROWS} SELECT e.record, e.first_record, {picks} "
            f"FROM _tg_repeats e JOIN _tg_key_rows r ON r.{RECORD_COLUMN} = e.record "
            "WHERE e.exact"
        )
        self.con.execute("DROP TABLE _tg_key_rows")
        self.con.execute(
            f"INSERT INTO {_FINDINGS} (record, rule, col, first_record) "
            "SELECT record, CAST(? AS VARCHAR), NULL, first_record FROM _tg_repeats "
            "WHERE NOT exact",
            [DUPLICATE_KEY_RULE],
        )
        self.con.execute("DROP TABLE _tg_repeats")

    def _loadable(self, part: str = "") -> str:
        """The staged rows that would load: passed, not repeated, no finding (one ``?``:
        the stage id); ``part``: a condition on ``s`` keeping one part of them."""
        return (
            f"SELECT * FROM {self.staged} s WHERE s.{LINEAGE_BATCH} = ? AND s.{PASSED_COLUMN}"
            f"{part}{self._listed(_FINDINGS, listed=False)}{self._listed(_EXACT, listed=False)}"
        )

    def loadable_columns(self, columns: list[str]) -> pl.DataFrame:
        """``columns`` of the staged rows that would load (after :meth:`find_batch_rules`),
        typed as the contract declares, for the batch expectations to judge the whole
        batch. Only these columns are read: the frame holds them for every such row at
        once (with no column, the record numbers, to count the rows)."""
        from tidegate.contracts._types import polars_dtype

        specs = {c.name: c for c in self.contract.columns}
        names = columns or [RECORD_COLUMN]
        schema: dict[str, Any] = {
            n: polars_dtype(specs[n]) if n in specs else pl.Int64() for n in names
        }
        picks = ", ".join(f"s.{quote_ident(n)}" for n in names)
        sql = f"SELECT {picks} FROM ({self._loadable()}) s"
        if not is_postgres_connection(self.con):  # Arrow straight from the relation: one copy
            rows = self.con.sql(sql, params=[self.stage_id]).to_arrow_table()
            return pl.DataFrame(pl.from_arrow(rows)).cast(schema)  # type: ignore[arg-type]
        cursor = self.con.execute(sql, [self.stage_id])
        pages = []
        while page := cursor.fetchmany(LOADABLE_PAGE):
            pages.append(pl.DataFrame(page, schema=schema, orient="row"))
        return pl.concat(pages) if pages else pl.DataFrame(schema=schema)

    def _key_hits(self) -> list[tuple[str, str, str]]:
        """Per part of the batch: the loadable staged rows whose key is in the target
        already (one ``?``), those rows (``s``) and the condition on the target's rows
        (``t``) they meet, for a DELETE. In parts by a hash of the key on a large batch,
        so that each join fits DuckDB's memory cap; on DuckDB a SEMI JOIN against the target's keys
        (hashed on the target side), on PostgreSQL an EXISTS (a hash semi-join)."""
        key = self.contract.primary_key
        keys = ", ".join(quote_ident(k) for k in key)
        on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in key)
        mine = value_partitions(self.con, self.rows, [f"s.{quote_ident(k)}" for k in key])
        theirs = value_partitions(self.con, self.rows, [f"t.{quote_ident(k)}" for k in key])
        hits = []
        for s_part, t_part in zip(mine, theirs, strict=True):
            rows = f"({self._loadable(s_part)}) s"
            if is_postgres_connection(self.con):
                meets = f"WHERE EXISTS (SELECT 1 FROM {self.target} t WHERE {on})"
            else:
                theirs_part = f"SELECT {keys} FROM {self.target} t WHERE true{t_part}"
                meets = f"SEMI JOIN ({theirs_part}) t ON {on}"
            hits.append((f"SELECT s.{RECORD_COLUMN} FROM {rows} {meets}", rows, t_part))
        return hits

    def update_existing_keys(self) -> int:
        """``on_existing_key: update``: the target's rows with a key this batch loads
        again are deleted (the batch's rows replace them); how many new rows replace one."""
        if not self.contract.primary_key:
            return 0
        on = " AND ".join(
            f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in self.contract.primary_key
        )
        updated = 0
        for hits, rows, t_part in self._key_hits():
            found = self._count(f"SELECT count(*) FROM ({hits}) h", [self.stage_id])
            if found:  # the target's part too: each side of the join is one part
                self.con.execute(
                    f"DELETE FROM {self.target} t USING {rows} WHERE {on}{t_part}",
                    [self.stage_id],
                )
            updated += found
        return updated

    def quarantine_existing_keys(self) -> None:
        """``on_existing_key: quarantine``: each loadable row whose key is in the target
        already becomes a finding (quarantined instead of loaded)."""
        if not self.contract.primary_key:
            return
        for hits, _, _ in self._key_hits():
            self.con.execute(
                f"INSERT INTO {_FINDINGS} (record, rule, col) "
                f"SELECT {RECORD_COLUMN}, CAST(? AS VARCHAR), NULL FROM ({hits}) h",
                [EXISTING_KEY_RULE, self.stage_id],
            )

    # -- rewriting quarantine rows (the engine's second pass) ---------------------------

    def has_findings(self) -> bool:
        return self._count(f"SELECT count(*) FROM {_FINDINGS}", []) > 0

    def findings_between(self, low: int, high: int) -> pl.DataFrame:
        """The findings of records ``low..high``: record, rule, column, first_record."""
        rows = self.con.execute(
            f"SELECT record, rule, col, first_record FROM {_FINDINGS} "
            "WHERE record BETWEEN ? AND ? ORDER BY record, rule",
            [low, high],
        ).fetchall()
        return pl.DataFrame(
            rows,
            schema={
                "record": pl.Int64,
                "rule": pl.String,
                "column": pl.String,
                "first_record": pl.Int64,
            },
            orient="row",
        )

    def exact_between(self, low: int, high: int) -> pl.Series:
        rows = self.con.execute(
            f"SELECT record FROM {_EXACT} WHERE record BETWEEN ? AND ?", [low, high]
        ).fetchall()
        return pl.Series("record", [int(r[0]) for r in rows], dtype=pl.Int64)

    def clear_quarantine(self) -> None:
        """Every staged quarantine row goes (a held batch's are written again, whole)."""
        self.con.execute(f"DELETE FROM {QUARANTINE_STAGING} WHERE stage_id = ?", [self.stage_id])

    def write_quarantine(self, rows: pl.DataFrame, replacing: pl.Series | None = None) -> None:
        """Stage quarantine rows, first dropping the staged rows of ``replacing`` records."""
        if replacing is not None and replacing.len():
            self.con.register("_tg_replacing", replacing.to_frame("record").to_arrow())
            try:
                self.con.execute(
                    f"DELETE FROM {QUARANTINE_STAGING} WHERE stage_id = ? "
                    "AND record IN (SELECT record FROM _tg_replacing)",
                    [self.stage_id],
                )
            finally:
                self.con.unregister("_tg_replacing")
        _insert(
            self.con,
            QUARANTINE_STAGING,
            rows.select(QUARANTINE_STAGING_COLUMNS).with_columns(
                pl.lit(self.stage_id).alias("stage_id"),
                pl.lit(self.contract.source).alias("source"),
            ),
        )

    # -- publishing ---------------------------------------------------------------------

    def quarantined(self) -> int:
        return self._count(
            f"SELECT count(*) FROM {QUARANTINE_STAGING} WHERE stage_id = ?", [self.stage_id]
        )

    def failure_counts(self) -> dict[str, int]:
        """Quarantined rows per rule id, from the staged quarantine's ``rules`` lists."""
        if is_postgres_connection(self.con):
            sql = (
                f"SELECT r, count(*) FROM {QUARANTINE_STAGING}, "
                "unnest(string_to_array(rules, ',')) AS r WHERE stage_id = ? GROUP BY r"
            )
        else:
            sql = (
                "SELECT r, count(*) FROM (SELECT unnest(string_split(rules, ',')) AS r "
                f"FROM {QUARANTINE_STAGING} WHERE stage_id = ?) GROUP BY r"
            )
        rows = self.con.execute(sql, [self.stage_id]).fetchall()
        return {str(r): int(n) for r, n in sorted(rows)}

    def publish(
        self,
        *,
        batch_id: str,
        load: bool,
        location: str,
        contract_version: int | None,
        actor: str,
    ) -> tuple[int, int]:
        """Copy the loadable staged rows into the target (unless ``load`` is False: a
        held batch) and the staged quarantine rows into the quarantine, all under
        ``batch_id``; the staged rows go. Returns (loaded, quarantined)."""
        con, contract = self.con, self.contract
        loaded = 0
        if load:
            names = [*contract.column_names, LINEAGE_BATCH, RECORD_COLUMN]
            cols = ", ".join(quote_ident(c) for c in names)
            picks = ", ".join(
                "CAST(? AS VARCHAR) AS " + quote_ident(c) if c == LINEAGE_BATCH else quote_ident(c)
                for c in names
            )
            loaded = _inserted(
                con,
                f"INSERT INTO {self.target} ({cols}) SELECT {picks} FROM ({self._loadable()}) s",
                [batch_id, self.stage_id],
            )
            if loaded and is_postgres_connection(con):
                ensure_pg_target_indexes(con, contract)
            if self.held:  # the monitor's statistics of these rows, from the frames
                stats = held_loaded_stats(self.held, self._unloaded(), contract, loaded)
                self.loaded_stats = (batch_id, stats) if stats is not None else None
        quarantined = self.quarantined()
        now = utc_now()
        above = last_id(con)
        con.execute(
            "INSERT INTO quarantine (source, batch_id, location, record, raw, normalized, errors, "
            "rules, status, version, contract_version, created_at, updated_at, updated_by) "
            "SELECT source, ?, ?, record, raw, normalized, errors, rules, 'pending', 1, ?, ?, ?, ? "
            f"FROM {QUARANTINE_STAGING} WHERE stage_id = ? ORDER BY record",
            [batch_id, location, contract_version, now, now, actor, self.stage_id],
        )
        index_new_records(con)
        count_inserted(con, batch_id, above)
        self._write_duplicates(batch_id, location)
        _delete_staged(con, contract, self.stage_id)
        return loaded, quarantined

    def _unloaded(self) -> pl.Series:
        """The records a finding or an exact repeat keeps out of the target."""
        sql = f"SELECT record FROM {_FINDINGS} UNION SELECT record FROM {_EXACT}"
        if is_postgres_connection(self.con):
            rows = self.con.execute(sql).fetchall()
            return pl.Series("record", [int(r[0]) for r in rows], dtype=pl.Int64)
        table = self.con.sql(sql).to_arrow_table()
        return pl.Series("record", table.column(0), dtype=pl.Int64)

    def _write_duplicates(self, batch_id: str, location: str) -> None:
        """Every exact repeat found over the staged rows, into ``duplicates`` (in pages,
        so a file of many duplicates stays in bounded memory)."""
        contract = self.contract
        if not contract.primary_key:
            return
        columns = list(contract.column_names)
        picks = ", ".join(f"e.{quote_ident(c)}" for c in columns)
        after = -(2**62)
        while True:  # one page at a time, by record, so memory stays bounded
            page = self.con.execute(
                f"SELECT e.record, e.first_record, {picks} FROM {_EXACT_ROWS} e "
                "WHERE e.record > ? ORDER BY e.record LIMIT ?",
                [after, DUPLICATES_PAGE],
            ).fetchall()
            if not page:
                return
            frame = duplicate_rows(
                ((r[0], r[1], r[2:]) for r in page), columns, contract.primary_key
            )
            insert_duplicates(
                self.con, frame, source=contract.source, batch_id=batch_id, location=location
            )
            if len(page) < DUPLICATES_PAGE:
                return
            after = int(page[-1][0])


@contextmanager
def publishing(
    store: Store, contract: Contract, stage_id: str, held_rows: int = 0
) -> Iterator[Publication]:
    """One transaction that publishes (or skips) one staged batch: its staged rows and
    the ``held_rows`` typed rows held in memory (:mod:`tidegate.store._held_chunks`), which are
    forgotten once the transaction commits (kept for a retry while it has not)."""
    held = _held_frames(contract, stage_id, held_rows)
    folder = _staged_folder(store, contract)
    files = _staged_files(folder, stage_id)
    with transaction(store) as con:
        publication = Publication(con, contract, stage_id, held, files)
        try:
            yield publication
        finally:
            with suppress(Exception):
                con.execute(f"DROP TABLE IF EXISTS {_FINDINGS}")
                con.execute(f"DROP TABLE IF EXISTS {_EXACT}")
                con.execute(f"DROP TABLE IF EXISTS {_EXACT_ROWS}")
                if held[0] and not is_postgres_connection(con):
                    con.unregister(_HELD_VIEW)
    if publication.loaded_stats is not None:  # committed: the monitor may read them
        remember_loaded_stats(publication.loaded_stats[0], contract, publication.loaded_stats[1])
    forget_held(stage_id)
    # published or skipped: the files go (a kill before this leaves files that no
    # checkpoint names, which the source's next run deletes)
    _remove_staged_files(folder, stage_id)
