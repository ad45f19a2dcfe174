"""What only the PostgreSQL store does: the database itself keeps the audit log
append-only, writers in several processes share one chain, roles limit a worker,
and a bad URL fails fast without its password. (Everything the two backends share is
tested once per backend through the ``store`` fixture.)"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from typer.testing import CliRunner

from helpers import make_contract, make_raw, process, query, scalar
from store_backends import writer_role
from tidegate.audit import verify_chain
from tidegate.cli import app
from tidegate.errors import StoreError, StoreUnavailableError
from tidegate.store import (
    PostgresStore,
    append_audit,
    commit_batch,
    ensure_store_tables,
    open_store,
    transaction,
)

pytestmark = pytest.mark.postgres
runner = CliRunner()


def _append(store: PostgresStore, n: int) -> None:
    for i in range(n):
        with transaction(store) as con:
            ensure_store_tables(con)
            append_audit(con, "batch_committed", {"i": i}, source="orders", actor="test")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit SET detail = '{}' WHERE seq = 2",
        "UPDATE audit SET actor = 'mallory'",
        "DELETE FROM audit WHERE seq = 5",
        "TRUNCATE audit",
    ],
)
def test_the_database_refuses_to_change_the_audit_log(
    pg_store: PostgresStore, statement: str
) -> None:
    _append(pg_store, 5)
    with (
        psycopg.connect(pg_store.conninfo(), autocommit=True) as con,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        con.execute(statement)
    report = verify_chain(pg_store)
    assert report.ok and report.entries == 5


@pytest.mark.parametrize(
    ("seq", "prev", "why"),
    [(7, "head", "a gap in seq"), (6, "0" * 64, "a fork: prev_hash is not the head's hash")],
)
def test_an_entry_that_does_not_extend_the_chain_is_refused(
    pg_store: PostgresStore, seq: int, prev: str, why: str
) -> None:
    _append(pg_store, 5)
    head = scalar(pg_store, "SELECT hash FROM audit WHERE seq = 5")
    with (
        psycopg.connect(pg_store.conninfo(), autocommit=True) as con,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="does not extend"),
    ):
        con.execute(
            'INSERT INTO audit (seq, "at", actor, event, detail, prev_hash, hash) '
            "VALUES (%s, 'now', 'mallory', 'batch_committed', '{}', %s, %s)",
            [seq, head if prev == "head" else prev, "f" * 64],
        )
    assert scalar(pg_store, "SELECT count(*) FROM audit") == 5, why


WRITER = """
import sys
from tidegate.store import append_audit, transaction
from tidegate.store import open_store
from tidegate.store import ensure_store_tables
store, name = open_store(sys.argv[1]), sys.argv[2]
for i in range(int(sys.argv[3])):
    with transaction(store) as con:
        ensure_store_tables(con)
        append_audit(con, "batch_committed", {"writer": name, "i": i}, source=name, actor=name)
"""


def test_writers_in_several_processes_share_one_unbroken_chain(pg_store: PostgresStore) -> None:
    """Three processes append at once: the advisory lock makes them take turns."""
    _append(pg_store, 1)  # the tables exist before the race
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, pg_store.url, f"w{k}", "25"])
        for k in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    report = verify_chain(pg_store)
    assert report.ok and report.entries == 76
    assert query(pg_store, "SELECT source, count(*) FROM audit GROUP BY 1 ORDER BY 1") == [
        ("orders", 1),
        ("w0", 25),
        ("w1", 25),
        ("w2", 25),
    ]
    seqs = [s for (s,) in query(pg_store, "SELECT seq FROM audit ORDER BY seq")]
    assert seqs == list(range(1, 77))


def test_the_first_writers_of_a_new_store_take_turns_creating_it(pg_store: PostgresStore) -> None:
    """Before the first write the schema does not exist (current_schema() is NULL): the
    writer lock must still be taken, or the first writers all CREATE SCHEMA at once."""
    import threading

    barrier, errors = threading.Barrier(4), []

    def first_write(k: int) -> None:
        barrier.wait()
        try:
            with transaction(pg_store) as con:
                ensure_store_tables(con)
                append_audit(con, "batch_committed", {"k": k}, source=f"t{k}", actor="test")
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=first_write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    report = verify_chain(pg_store)
    assert report.ok and report.entries == 4


def test_a_writer_role_loads_but_cannot_rewrite_or_unprotect_the_audit(
    pg_store: PostgresStore,
) -> None:
    with writer_role(pg_store) as (as_writer, granted):
        assert any("GRANT SELECT, INSERT ON audit" in g for g in granted)
        contract = make_contract()
        row = {"order_id": "1", "status": "shipped", "amount": "5", "order_date": "2024-01-02"}
        outcome = commit_batch(as_writer, process(make_raw([row]), contract), contract)
        assert outcome.loaded == 1  # the writer creates the target table and loads
        # and makes the store's PII key on the first PII value, and can erase it
        from tidegate.store._pii_keys import erase_pii_keys
        from tidegate.store._pii_seal import PiiSealer

        with transaction(as_writer) as con:
            sealed = PiiSealer(con).seal("a@b.example")
        assert erase_pii_keys(as_writer, "writer") == [sealed["key"]]
        with psycopg.connect(as_writer.conninfo(), autocommit=True) as con:
            for statement in (
                "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
                "DROP TRIGGER audit_append_only ON audit",
                "UPDATE audit SET actor = 'mallory'",
                "DELETE FROM audit",
                "TRUNCATE audit",
                # the recorded contract texts: inserted once, never changed
                "UPDATE contract_versions SET version = 9",
                "DELETE FROM contract_versions",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(statement)
        assert verify_chain(pg_store).ok
        assert scalar(pg_store, "SELECT count(*) FROM orders") == 1
        recorded = "SELECT version, content_hash FROM contract_versions"
        assert query(pg_store, recorded) == [(1, contract.content_hash)]


def test_a_bad_store_url_fails_fast_and_hides_the_password() -> None:
    missing_db = open_store("postgresql://postgres:s3cr3t-pw@127.0.0.1:5432/no_such_db")
    with pytest.raises(StoreError) as info, transaction(missing_db):
        pass
    assert "s3cr3t-pw" not in str(info.value) and "***" in str(info.value)
    assert "does not exist" in str(info.value)
    down = open_store("postgresql://postgres:s3cr3t-pw@127.0.0.1:1/test")
    # transient, so Prefect retries it
    with pytest.raises(StoreUnavailableError) as unavailable, transaction(down):
        pass
    assert "s3cr3t-pw" not in str(unavailable.value)
    result = runner.invoke(
        app, ["audit", "list", "--store", "postgresql://postgres:s3cr3t-pw@127.0.0.1:1/test"]
    )
    assert result.exit_code != 0
    shown = " ".join(result.output.split())
    assert "s3cr3t-pw" not in shown and "postgres:***@127.0.0.1:1" in shown
    assert "does not answer" in shown


def test_env_references_in_the_url_are_resolved_when_opened(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TG_TEST_PG_HOST", "127.0.0.1")
    store = PostgresStore(pg_store.url.replace("127.0.0.1", "${TG_TEST_PG_HOST}"))
    _append(store, 2)
    assert "${TG_TEST_PG_HOST}" in str(store)  # shown as written, resolved only to connect
    assert verify_chain(pg_store).entries == 2
    monkeypatch.delenv("TG_TEST_PG_HOST")
    with pytest.raises(StoreError, match="TG_TEST_PG_HOST is not set"):
        verify_chain(store)


def test_audit_sql_runs_read_only_on_postgres(pg_store: PostgresStore) -> None:
    _append(pg_store, 3)
    ok = runner.invoke(
        app, ["audit", "sql", "SELECT count(*) AS n FROM audit", "--store", pg_store.url]
    )
    assert ok.exit_code == 0, ok.output
    assert "3" in ok.output
    refused = runner.invoke(
        app,
        ["audit", "sql", "SELECT 1; DELETE FROM quarantine", "--store", pg_store.url],
    )
    assert refused.exit_code != 0
    sneaky = runner.invoke(
        app,
        [
            "audit",
            "sql",
            "SELECT * FROM (SELECT setval('quarantine_id_seq', 99)) s",
            "--store",
            pg_store.url,
        ],
    )
    assert sneaky.exit_code != 0 and "read-only" in sneaky.output.lower(), sneaky.output
    assert scalar(pg_store, "SELECT last_value FROM quarantine_id_seq") == 1


def test_a_writer_waits_for_another_then_gives_up_with_a_transient_error(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with a locked DuckDB file: wait TIDEGATE_LOCK_WAIT, then StoreLockedError."""
    import threading

    from tidegate.errors import StoreLockedError
    from tidegate.store import _connect

    _append(pg_store, 1)
    monkeypatch.setattr(_connect, "LOCK_WAIT_SECONDS", 0.5)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction(pg_store) as con:
            append_audit(con, "batch_committed", {"held": True}, source="a", actor="a")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(StoreLockedError, match="TIDEGATE_LOCK_WAIT"), transaction(pg_store):
            pass
    finally:
        release.set()
        thread.join(10)
    _append(pg_store, 1)  # the lock is free again
    assert verify_chain(pg_store).entries == 3


def test_target_tables_get_indexes_for_batch_and_key_lookups(pg_store: PostgresStore) -> None:
    contract = make_contract()
    row = {"order_id": "1", "status": "shipped", "amount": "5", "order_date": "2024-01-02"}
    for tag in ("a", "b"):  # the second batch finds the indexes in place
        commit_batch(pg_store, process(make_raw([row], sha=tag * 64), contract), contract)
    indexes = {
        d
        for (d,) in query(
            pg_store,
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders' "
            "AND schemaname = current_schema()",
        )
    }
    assert any("(_tidegate_batch_id)" in d for d in indexes)
    assert any("(order_id)" in d for d in indexes)
    assert len(indexes) == 2
    assert scalar(pg_store, "SELECT count(*) FROM orders") == 1  # updated, not doubled
