"""`tidegate audit sql` reads the store's tables and nothing else: the dangerous
functions are refused before the store is opened, and on PostgreSQL the query runs
READ ONLY, with a statement timeout, as the store's reader role (`store init` makes
it: SELECT on the store's tables only); doctor fails when it would run as a superuser."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

import tidegate
from helpers import make_contract
from store_backends import PG_DATABASE_URL, drop_pg_store, store_arg
from tidegate.audit._sql import read_only_statement, run_read_query
from tidegate.cli import app
from tidegate.doctor import run_doctor
from tidegate.errors import AuditQueryError
from tidegate.store import PostgresStore, Store
from tidegate.store._init import init_store
from tidegate.store._pg_reader import reader_role_name

ROW = {"order_id": "1", "status": "shipped", "amount": "10.00", "order_date": "2024-01-02"}


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT pg_stat_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '/tmp/x')",
        "SELECT pg_terminate_backend(1)",
        "SELECT pg_cancel_backend(1)",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_xact_lock(1)",
        "SELECT PG_SLEEP(1)",
        'SELECT "pg_sleep"(1)',
        "SELECT pg_catalog.pg_sleep /* hidden */ (1)",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT query_to_xml('select pg_sleep(1)', true, true, '')",
    ],
)
def test_dangerous_functions_are_refused_before_the_store_is_opened(sql: str) -> None:
    with pytest.raises(AuditQueryError, match=r"refused: the query calls \w+\(\)"):
        read_only_statement(sql)


def test_copy_to_program_is_refused() -> None:
    with pytest.raises(AuditQueryError, match=r"refused: COPY \.\.\. PROGRAM runs a command"):
        read_only_statement("COPY audit TO PROGRAM 'cat > /tmp/x'")


def test_a_unicode_escaped_name_is_refused() -> None:
    with pytest.raises(AuditQueryError, match="Unicode-escaped name"):
        read_only_statement('SELECT U&"pg\\0073leep"(1)')


def test_names_that_only_contain_those_words_are_read() -> None:
    read_only_statement("SELECT count(*) AS pg_sleep_count, set_config_x FROM audit")


def test_the_cli_refuses_with_a_message_on_each_store(store: Store) -> None:
    tidegate.Pipeline(source=[ROW], contract=make_contract(), store=store).run()
    args = ["audit", "sql", "SELECT pg_sleep(5)", "--store", store_arg(store)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "refused: the query calls pg_sleep()" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def _one(store: PostgresStore, sql: str) -> object:
    return run_read_query(store, sql).rows[0][0]


@pytest.mark.postgres
def test_the_query_runs_as_the_reader_role_read_only_with_a_timeout(
    pg_store: PostgresStore,
) -> None:
    tidegate.Pipeline(source=[ROW], contract=make_contract(), store=pg_store).run()
    schema = pg_store.url.rsplit("%3D", 1)[1]
    assert _one(pg_store, "SELECT current_user") == "postgres"  # before init: as connected
    init_store(pg_store)
    reader = reader_role_name(schema, "test")
    assert _one(pg_store, "SELECT current_user") == reader
    assert _one(pg_store, "SELECT current_setting('transaction_read_only')") == "on"
    assert _one(pg_store, "SELECT current_setting('statement_timeout')") == "1min"
    assert _one(pg_store, "SELECT count(*) FROM orders") == 1
    assert _one(pg_store, "SELECT count(*) FROM audit") >= 1  # type: ignore[operator]
    # what a superuser could read, the reader cannot
    with pytest.raises(AuditQueryError, match="permission denied"):
        run_read_query(pg_store, "SELECT rolpassword FROM pg_authid")
    with psycopg.connect(PG_DATABASE_URL) as con:
        powers = con.execute(
            "SELECT rolsuper, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = %s",
            [reader],
        ).fetchone()
    assert powers == (False, False, False)


@pytest.mark.postgres
def test_a_writer_reads_as_the_reader_role_too_and_a_new_source_is_readable(
    pg_store: PostgresStore,
) -> None:
    role = f"tg_w_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        init_store(pg_store, [role])
        writer = PostgresStore(pg_store.url.replace("postgres@", f"{role}@", 1))
        # the writer makes a new source's table at run time: the reader can read it
        tidegate.Pipeline(source=[ROW], contract=make_contract(), store=writer).run()
        schema = pg_store.url.rsplit("%3D", 1)[1]
        assert _one(writer, "SELECT current_user") == reader_role_name(schema, "test")
        assert _one(writer, "SELECT count(*) FROM orders") == 1
        with pytest.raises(AuditQueryError, match="refused"):
            run_read_query(writer, "SELECT pg_advisory_lock(hashtext('tidegate:x'))")
    finally:
        drop_pg_store(pg_store)
        with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
            con.execute(f'DROP OWNED BY "{role}"')
            con.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
def test_doctor_fails_when_audit_sql_would_run_as_a_superuser(
    pg_store: PostgresStore, tmp_path: Path, project_root: Path
) -> None:
    tidegate.Pipeline(source=[ROW], contract=make_contract(), store=pg_store).run()
    project = tmp_path / "empty_project"
    (project / "pipelines").mkdir(parents=True)
    (project / "schemas").mkdir()
    item = {r.check: r for r in run_doctor(project, pg_store).results}["audit sql"]
    assert item.status == "fail" and "postgres, a superuser" in item.detail
    assert "tidegate store init" in item.todo
    init_store(pg_store)
    item = {r.check: r for r in run_doctor(project, pg_store).results}["audit sql"]
    assert item.status == "pass" and "_reader" in item.detail


def test_doctor_has_no_audit_sql_item_for_a_duckdb_store(tmp_path: Path) -> None:
    store = tidegate.open_store(tmp_path / "s.duckdb")
    tidegate.Pipeline(source=[ROW], contract=make_contract(), store=store).run()
    project = tmp_path / "p"
    (project / "pipelines").mkdir(parents=True)
    (project / "schemas").mkdir()
    assert "audit sql" not in {r.check for r in run_doctor(project, store).results}


def test_each_database_has_its_own_reader_role() -> None:
    """A role belongs to the cluster: two databases whose stores are both in `public`
    must not share one reader (it could read the other database's tables)."""
    first, second = reader_role_name("public", "sales"), reader_role_name("public", "hr")
    assert first != second
    long = [reader_role_name("s" * 60, d) for d in ("a" * 60, "a" * 60 + "b")]
    assert long[0] != long[1] and all(len(n.encode()) <= 63 for n in long)


@pytest.mark.postgres
def test_init_says_when_it_cannot_make_the_reader_role(pg_store: PostgresStore) -> None:
    """An owner that may not CREATE ROLE gets no reader role, and `store init` says so."""
    owner = f"tg_o_{uuid.uuid4().hex[:8]}"
    schema = pg_store.url.rsplit("%3D", 1)[1]
    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(f'CREATE ROLE "{owner}" LOGIN')
        con.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"')
    try:
        as_owner = PostgresStore(pg_store.url.replace("postgres@", f"{owner}@", 1))
        report = init_store(as_owner)
        notes = [g for g in report.granted if g.startswith("-- no reader role")]
        assert len(notes) == 1 and "may not CREATE ROLE" in notes[0]
    finally:
        drop_pg_store(pg_store)
        with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
            con.execute(f'DROP OWNED BY "{owner}"')
            con.execute(f'DROP ROLE "{owner}"')
