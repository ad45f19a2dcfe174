"""The store backends every store-level test body runs on: a DuckDB file and a
PostgreSQL schema of its own on this machine's server (dropped after the test).

Registered as a pytest plugin in tests/conftest.py: a test that takes ``store`` runs
once per backend. PostgreSQL not answering skips locally and FAILS under CI=true.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sql_backends import require_service
from tidegate.store import PostgresStore, Store, open_store

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_DATABASE_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test"
STORE_BACKENDS = ("duckdb", pytest.param("postgres", marks=pytest.mark.postgres))


def new_pg_store() -> PostgresStore:
    """A store URL whose tables go to a fresh schema (created on first write)."""
    schema = f"tg_{uuid.uuid4().hex[:12]}"
    return PostgresStore(f"{PG_DATABASE_URL}?options=-csearch_path%3D{schema}")


def drop_pg_store(store: PostgresStore) -> None:
    import psycopg

    from tidegate.store._pg_reader import reader_role_name

    schema = store.url.rsplit("%3D", 1)[1]
    reader = reader_role_name(schema, "test")  # made by `store init`: outlives its schema
    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [reader]).fetchall():
            con.execute(f'DROP OWNED BY "{reader}"')
            con.execute(f'DROP ROLE "{reader}"')


def make_store(kind: str, folder: Path) -> Store:
    if kind == "duckdb":
        return open_store(folder / "tidegate.duckdb")
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    return new_pg_store()


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on each backend: ``tmp_path/tidegate.duckdb`` or a PostgreSQL schema."""
    from helpers import counts_in_step

    made = make_store(request.param, tmp_path)
    try:
        yield made
        counts_in_step(made)  # whatever the test wrote, the counts kept in step
    finally:
        if isinstance(made, PostgresStore):
            drop_pg_store(made)


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[PostgresStore]:
    """An empty PostgreSQL store (a fresh schema), dropped afterwards."""
    store = make_store("postgres", tmp_path)
    assert isinstance(store, PostgresStore)
    try:
        yield store
    finally:
        drop_pg_store(store)


def store_arg(store: Store) -> str:
    """The ``--store`` argument: the file, or the full URL (``str()`` hides a password)."""
    return store.url if isinstance(store, PostgresStore) else str(store)


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(sql)


@pytest.fixture(scope="session")
def pg_demo_template(project_root: Path, prefect_api: str) -> Iterator[str]:
    """A PostgreSQL database filled once by the real `tidegate demo` (CLI and flow);
    tests get copies of it (``CREATE DATABASE ... TEMPLATE``), never the template."""
    from typer.testing import CliRunner

    from tidegate.cli import app

    require_service("PostgreSQL", PG_HOST, PG_PORT)
    name = f"tg_demo_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
        result = CliRunner().invoke(app, ["demo", "--project", str(project_root), "--store", url])
        assert result.exit_code == 0, result.output
        yield name
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _drop_orphan_reader(name)


@pytest.fixture(params=STORE_BACKENDS)
def demo_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the demo's store on each backend, to change freely."""
    if request.param == "duckdb":
        from helpers import copy_store, counts_in_step

        made = copy_store(request.getfixturevalue("demo_template"), tmp_path / "demo")
        yield made
        counts_in_step(made)  # whatever the test wrote, the counts kept in step
        return
    from helpers import counts_in_step

    with pg_database_copy(request.getfixturevalue("pg_demo_template")) as copy:
        yield copy
        counts_in_step(copy)


@contextmanager
def pg_database_copy(template: str) -> Iterator[PostgresStore]:
    """A new database made from ``template`` (CREATE DATABASE ... TEMPLATE), then dropped."""
    name = f"tg_copy_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield PostgresStore(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}")
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _drop_orphan_reader(name)


def _drop_orphan_reader(database: str) -> None:
    """The reader role `store init` made for schema ``public`` of a dropped database
    (a role outlives its database)."""
    import psycopg

    from tidegate.store._pg_reader import reader_role_name

    # still granted in another test's database: its teardown drops it
    with contextlib.suppress(psycopg.Error):
        _admin_execute(f'DROP ROLE IF EXISTS "{reader_role_name("public", database)}"')


@contextmanager
def writer_role(owner: PostgresStore) -> Iterator[tuple[PostgresStore, list[str]]]:
    """A new login role made a writer of ``owner`` (`tidegate store init --grant-writer`):
    yields the store as that role connects to it, and the GRANTs that ran. Afterwards
    the store's schema is dropped (its grants with it), then the role."""
    from tidegate.store._init import init_store

    role = f"tg_writer_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        report = init_store(owner, [role])
        yield PostgresStore(owner.url.replace("postgres@", f"{role}@", 1)), report.granted
    finally:
        drop_pg_store(owner)
        _admin_execute(f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def reader_role_made(store: PostgresStore) -> Iterator[str]:
    """`tidegate store init` on ``store`` (a database of its own, schema ``public``):
    its reader role, dropped afterwards (a role outlives the database)."""
    import psycopg

    from tidegate.store._init import init_store
    from tidegate.store._pg_reader import reader_role_name

    database = store.url.rsplit("/", 1)[1].split("?", 1)[0]
    reader = reader_role_name("public", database)
    init_store(store)
    try:
        yield reader
    finally:
        with psycopg.connect(store.conninfo(), autocommit=True) as con:
            con.execute(f'DROP OWNED BY "{reader}"')
            con.execute(f'DROP ROLE IF EXISTS "{reader}"')
