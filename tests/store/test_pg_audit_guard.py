"""A hostile writer role cannot get past the PostgreSQL audit guard (issue 13).

Each test makes a fresh store schema and a login role ``tidegate_w_<random>``, makes
that role a writer with the real `tidegate store init --grant-writer`, and connects as
it with psycopg to try one trick against the audit: a temporary table ``audit`` that
shadows the real one inside the chain check, a schema of its own ahead in the
search_path with an ``audit`` table and look-alike functions and operators, an
operator in the store's own schema (writers may CREATE there), SET ROLE to the owner,
disabling or dropping a trigger, replacing a trigger function, TRUNCATE, DELETE,
UPDATE, session_replication_role = replica. Each must fail with the database's error,
and afterwards `tidegate audit verify` passes over the same number of entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from typer.testing import CliRunner

from helpers import make_contract, make_raw, make_sales_project, process, query, scalar
from store_backends import PG_DATABASE_URL, drop_pg_store, make_store
from tidegate import EXIT_OK
from tidegate.cli import app
from tidegate.doctor._store import append_only_check
from tidegate.store import PostgresStore, append_audit, commit_batch, ensure_store_tables
from tidegate.store import transaction as store_transaction
from tidegate.store._pg_triggers import GUARD_FUNCTIONS, KEYS_GUARD_FUNCTION, pinned_search_path

pytestmark = pytest.mark.postgres
runner = CliRunner()
ENTRIES = 3
INSERT_ENTRY = (
    'INSERT INTO {s}.audit (seq, "at", actor, event, detail, prev_hash, hash) '
    "VALUES ({seq}, 'now', 'mallory', 'batch_committed', '{{}}', '{prev}', '{hash}')"
)
# The guard functions as tidegate made them before issue 13: the path taken FROM CURRENT
# (the store's schema, so pg_temp is searched first) and ``audit`` not schema-qualified.
OLD_GUARD_DDL = """
CREATE OR REPLACE FUNCTION tidegate_audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    RAISE EXCEPTION 'the tidegate audit log is append-only: % on audit is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION tidegate_audit_chain_link() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    head_seq BIGINT;
    head_hash VARCHAR;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit ORDER BY seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'audit entry % does not extend the chain', NEW.seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""


@dataclass
class Guarded:
    owner: PostgresStore  # the store as its owner (the superuser postgres) connects
    writer: PostgresStore  # the same store as the writer role connects
    role: str
    schema: str

    @property
    def s(self) -> str:
        return f'"{self.schema}"'


def _admin(sql: str) -> None:
    with psycopg.connect(PG_DATABASE_URL, autocommit=True) as con:
        con.execute(sql)


def _verify(store: PostgresStore) -> str:
    """`tidegate audit verify` as the CLI prints it, line wrapping undone."""
    result = runner.invoke(app, ["audit", "verify", "--store", store.url])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Guarded]:
    owner = make_store("postgres", tmp_path)
    assert isinstance(owner, PostgresStore)
    role = f"tidegate_w_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE ROLE "{role}" LOGIN')
    try:
        result = runner.invoke(app, ["store", "init", "--store", owner.url, "--grant-writer", role])
        assert result.exit_code == 0, result.output
        writer = PostgresStore(owner.url.replace("postgres@", f"{role}@", 1))
        for i in range(ENTRIES):  # the writer appends: that is what it is for
            with store_transaction(writer) as con:
                ensure_store_tables(con)
                append_audit(con, "batch_committed", {"i": i}, source="orders", actor=role)
        yield Guarded(owner, writer, role, owner.url.rsplit("%3D", 1)[1])
    finally:
        drop_pg_store(owner)
        _admin(f'DROP SCHEMA IF EXISTS "{role}" CASCADE')
        _admin(f'DROP OWNED BY "{role}"')
        _admin(f'DROP ROLE IF EXISTS "{role}"')


def _head(g: Guarded) -> tuple[int, str]:
    seq, hash_ = query(g.owner, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")[0]
    return int(seq), str(hash_)


def _as_writer(g: Guarded) -> psycopg.Connection:
    return psycopg.connect(g.writer.conninfo(), autocommit=True)


def _assert_intact(g: Guarded) -> None:
    assert scalar(g.owner, "SELECT count(*) FROM audit") == ENTRIES
    assert f"intact: {ENTRIES} entries" in _verify(g.owner)


def _shadow_then_forge(g: Guarded) -> list[str]:
    """A temporary ``audit`` whose head is the writer's invention, then an entry that
    extends that head instead of the real one."""
    seq, _ = _head(g)
    return [
        "CREATE TEMP TABLE audit (seq BIGINT, hash VARCHAR)",
        f"INSERT INTO pg_temp.audit VALUES ({seq + 99}, 'forged')",
        INSERT_ENTRY.format(s=g.s, seq=seq + 100, prev="forged", hash="f" * 64),
    ]


def _shadow_then_fork(g: Guarded) -> list[str]:
    """The shadow keeps the real seq but a made-up hash: a fork of the chain."""
    seq, _ = _head(g)
    return [
        "CREATE TEMP TABLE audit (seq BIGINT, hash VARCHAR)",
        f"INSERT INTO pg_temp.audit VALUES ({seq}, 'forged')",
        INSERT_ENTRY.format(s=g.s, seq=seq + 1, prev="forged", hash="f" * 64),
    ]


def _lookalikes(schema: str) -> list[str]:
    """Functions and operators named like those the chain check calls, in ``schema``:
    ``<>`` on varchar (an exact match beats pg_catalog's text <> text), ``repeat`` and
    ``+`` of the same types as pg_catalog's, all saying "no difference"."""
    return [
        f"CREATE FUNCTION {schema}.same(VARCHAR, VARCHAR) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT false'",
        f"CREATE FUNCTION {schema}.same(BIGINT, BIGINT) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT false'",
        f"CREATE OPERATOR {schema}.<> (LEFTARG = VARCHAR, RIGHTARG = VARCHAR, "
        f"FUNCTION = {schema}.same)",
        f"CREATE OPERATOR {schema}.<> (LEFTARG = BIGINT, RIGHTARG = BIGINT, "
        f"FUNCTION = {schema}.same)",
        f"CREATE FUNCTION {schema}.repeat(text, integer) RETURNS text "
        "LANGUAGE sql AS 'SELECT ''forged''::text'",
    ]


def _operators_in_the_store_schema(g: Guarded) -> list[str]:
    seq, _ = _head(g)
    return [
        *_lookalikes(g.s),
        INSERT_ENTRY.format(s=g.s, seq=seq + 5, prev="forged", hash="f" * 64),
    ]


def _own_schema_first_in_the_path(g: Guarded) -> list[str]:
    """A schema named like the role (so even the default "$user", public path finds it)
    holding an ``audit`` with a forged head and the look-alikes, first in search_path."""
    seq, _ = _head(g)
    mine = f'"{g.role}"'
    return [
        f"CREATE TABLE {mine}.audit (seq BIGINT, hash VARCHAR)",
        f"INSERT INTO {mine}.audit VALUES ({seq + 99}, 'forged')",
        *_lookalikes(mine),
        f"SET search_path = {mine}, {g.s}",
        INSERT_ENTRY.format(s=g.s, seq=seq + 100, prev="forged", hash="f" * 64),
    ]


def _replace_the_chain_check(g: Guarded) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {g.s}.tidegate_audit_chain_link() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
    ]


# trick -> (the statements the writer runs; the last must fail), error class, message
TRICKS = {
    "temp table shadows audit, forged head": (
        _shadow_then_forge,
        errors.IntegrityConstraintViolation,
        "does not extend the chain",
    ),
    "temp table shadows audit, fork": (
        _shadow_then_fork,
        errors.IntegrityConstraintViolation,
        "does not extend the chain",
    ),
    "look-alike operators in the store schema": (
        _operators_in_the_store_schema,
        errors.IntegrityConstraintViolation,
        "does not extend the chain",
    ),
    "own schema first in search_path": (
        _own_schema_first_in_the_path,
        errors.IntegrityConstraintViolation,
        "does not extend the chain",
    ),
    "temp table shadows audit, then UPDATE": (
        lambda g: [
            "CREATE TEMP TABLE audit (seq BIGINT, hash VARCHAR)",
            f"UPDATE {g.s}.audit SET actor = 'mallory'",
        ],
        errors.InsufficientPrivilege,
        "permission denied for table audit",
    ),
    "SET ROLE to the owner": (
        lambda g: ["SET ROLE postgres"],
        errors.InsufficientPrivilege,
        'permission denied to set role "postgres"',
    ),
    "SET session_replication_role = replica": (
        lambda g: ["SET session_replication_role = replica"],
        errors.InsufficientPrivilege,
        'permission denied to set parameter "session_replication_role"',
    ),
    "DISABLE TRIGGER": (
        lambda g: [f"ALTER TABLE {g.s}.audit DISABLE TRIGGER audit_chain_link"],
        errors.InsufficientPrivilege,
        "must be owner of table audit",
    ),
    "DISABLE TRIGGER ALL": (
        lambda g: [f"ALTER TABLE {g.s}.audit DISABLE TRIGGER ALL"],
        errors.InsufficientPrivilege,
        "must be owner of table audit",
    ),
    "DROP TRIGGER": (
        lambda g: [f"DROP TRIGGER audit_chain_link ON {g.s}.audit"],
        errors.InsufficientPrivilege,
        "must be owner of",
    ),
    "take ownership of audit": (
        lambda g: [f'ALTER TABLE {g.s}.audit OWNER TO "{g.role}"'],
        errors.InsufficientPrivilege,
        "must be owner of table audit",
    ),
    "replace the chain check": (
        _replace_the_chain_check,
        errors.InsufficientPrivilege,
        "must be owner of function",
    ),
    "unpin the chain check": (
        lambda g: [f"ALTER FUNCTION {g.s}.tidegate_audit_chain_link() RESET search_path"],
        errors.InsufficientPrivilege,
        "must be owner of function",
    ),
    "a trigger of its own on audit": (
        lambda g: [
            f"CREATE FUNCTION {g.s}.noop() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NULL; END $$",
            f"CREATE TRIGGER zz BEFORE INSERT ON {g.s}.audit "
            f"FOR EACH ROW EXECUTE FUNCTION {g.s}.noop()",
        ],
        errors.InsufficientPrivilege,
        "permission denied for table audit",
    ),
    "TRUNCATE": (
        lambda g: [f"TRUNCATE {g.s}.audit"],
        errors.InsufficientPrivilege,
        "permission denied for table audit",
    ),
    "DELETE": (
        lambda g: [f"DELETE FROM {g.s}.audit WHERE seq = 2"],
        errors.InsufficientPrivilege,
        "permission denied for table audit",
    ),
    "UPDATE": (
        lambda g: [f"UPDATE {g.s}.audit SET detail = '{{}}' WHERE seq = 2"],
        errors.InsufficientPrivilege,
        "permission denied for table audit",
    ),
}


@pytest.mark.parametrize("trick", list(TRICKS))
def test_a_writer_role_cannot_get_past_the_audit_guard(guarded: Guarded, trick: str) -> None:
    make, error, message = TRICKS[trick]
    statements = make(guarded)
    if trick == "own schema first in search_path":
        _admin(f'CREATE SCHEMA "{guarded.role}" AUTHORIZATION "{guarded.role}"')
    with _as_writer(guarded) as con:
        for statement in statements[:-1]:
            con.execute(statement)  # the set-up is the writer's right
        with pytest.raises(error, match=message):
            con.execute(statements[-1])
    _assert_intact(guarded)


def test_the_guard_functions_pin_their_path_and_name_the_store_schema(guarded: Guarded) -> None:
    rows = query(
        guarded.owner,
        "SELECT p.proname, p.proconfig, p.prosecdef, p.prosrc FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ? ORDER BY 1",
        [guarded.schema],
    )
    assert [r[0] for r in rows] == sorted((*GUARD_FUNCTIONS, KEYS_GUARD_FUNCTION))
    for _, config, security_definer, _body in rows:
        assert config == [f"search_path=pg_catalog, {guarded.schema}, pg_temp"]
        assert security_definer is False  # the check only reads audit, as the writer may
    chain_link = next(r[3] for r in rows if r[0] == "tidegate_audit_chain_link")
    assert f'FROM "{guarded.schema}".audit AS a' in chain_link
    assert "pg_catalog.repeat(" in chain_link and "OPERATOR(pg_catalog.<>)" in chain_link
    assert pinned_search_path('we"ird') == 'SET search_path = pg_catalog, "we""ird", pg_temp'


def test_an_older_guard_could_be_shadowed_and_store_init_renews_it(
    guarded: Guarded, tmp_path: Path
) -> None:
    """The guard as tidegate made it before: the writer's temporary table is what the
    chain check reads. Doctor fails on it; the writer's own writes cannot renew it (and
    still work); `tidegate store init` as the owner renews it and the shadow fails."""
    g = guarded
    with psycopg.connect(g.owner.conninfo(), autocommit=True) as con:
        con.execute(OLD_GUARD_DDL)  # an older tidegate's store (search_path = the schema)
    check = append_only_check(g.writer, True)
    assert check.status == "fail" and "tidegate_audit_chain_link" in check.detail
    assert "tidegate_audit_append_only" in check.detail and "store init" in check.todo

    with _as_writer(g) as con, con.transaction(force_rollback=True):
        for statement in _shadow_then_forge(g):
            con.execute(statement)  # accepted: the bypass this issue closes
        forged = con.execute(f"SELECT count(*) FROM {g.s}.audit").fetchall()[0][0]
    assert forged == ENTRIES + 1  # (rolled back: the store is left as it was)

    contract = make_contract()
    row = {"order_id": "1", "status": "shipped", "amount": "5", "order_date": "2024-01-02"}
    outcome = commit_batch(g.writer, process(make_raw([row]), contract), contract)
    assert outcome.loaded == 1  # a writer's run goes on; it may not replace the functions
    assert append_only_check(g.writer, True).status == "fail"

    result = runner.invoke(app, ["store", "init", "--store", g.owner.url])
    assert result.exit_code == 0, result.output
    assert append_only_check(g.writer, True).status == "pass"
    with _as_writer(g) as con:
        statements = _shadow_then_forge(g)
        for statement in statements[:-1]:
            con.execute(statement)
        with pytest.raises(errors.IntegrityConstraintViolation, match="does not extend"):
            con.execute(statements[-1])
    assert scalar(g.owner, "SELECT count(*) FROM audit") == ENTRIES + 1  # + the batch
    assert f"intact: {ENTRIES + 1} entries" in _verify(g.owner)


def test_the_owner_opening_the_store_for_writing_renews_an_older_guard(guarded: Guarded) -> None:
    with psycopg.connect(guarded.owner.conninfo(), autocommit=True) as con:
        con.execute(OLD_GUARD_DDL)
    assert append_only_check(guarded.writer, True).status == "fail"
    with store_transaction(guarded.owner) as con:
        ensure_store_tables(con)
        append_audit(con, "batch_committed", {"by": "owner"}, source="orders", actor="owner")
    check = append_only_check(guarded.writer, True)
    assert check.status == "pass", check.detail
    assert f"intact: {ENTRIES + 1} entries" in _verify(guarded.owner)


def test_store_init_as_a_writer_says_who_may_renew_a_disabled_trigger(guarded: Guarded) -> None:
    with psycopg.connect(guarded.owner.conninfo(), autocommit=True) as con:
        con.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_truncate")
    result = runner.invoke(app, ["store", "init", "--store", guarded.writer.url])
    shown = " ".join(result.output.split())
    assert result.exit_code == 2 and result.exception is not None
    assert "audit_no_truncate" in shown and "run `tidegate store init` as role postgres" in shown
    assert runner.invoke(app, ["store", "init", "--store", guarded.owner.url]).exit_code == 0
    enabled = query(
        guarded.owner,
        "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_no_truncate' "
        "AND tgrelid = to_regclass('audit')",
    )
    assert enabled == [("O",)]


@pytest.mark.parametrize(
    ("power", "why"),
    [
        ("GRANT postgres TO {role}", "member of its owner 'postgres'"),
        ("GRANT SET ON PARAMETER session_replication_role TO {role}", "session_replication_role"),
        ("ALTER ROLE {role} SUPERUSER", "is a superuser"),
    ],
)
def test_store_init_refuses_a_writer_that_could_get_around_the_triggers(
    guarded: Guarded, power: str, why: str
) -> None:
    _admin(power.format(role=f'"{guarded.role}"'))
    try:
        result = runner.invoke(
            app, ["store", "init", "--store", guarded.owner.url, "--grant-writer", guarded.role]
        )
        shown = " ".join(result.output.split())
        assert result.exit_code == 2 and why in shown and guarded.role in shown
        assert "could get around the append-only audit" in shown and "✓" not in shown
    finally:
        _admin(f'ALTER ROLE "{guarded.role}" NOSUPERUSER')
        _admin(f'REVOKE postgres FROM "{guarded.role}"')


def test_tidegate_run_as_the_writer_role_still_loads_and_quarantines(
    guarded: Guarded, tmp_path: Path, prefect_api: str
) -> None:
    project = make_sales_project(
        tmp_path / "p", {"a.csv": "id,amount\n1,10\n2,-5\n3,7\n"}, max_quarantine_ratio=1.0
    )
    where = ["--project", str(project), "--store", guarded.writer.url]
    result = runner.invoke(app, ["run", "sales", *where])
    assert result.exit_code == EXIT_OK, result.output
    assert query(guarded.owner, "SELECT id FROM sales ORDER BY id") == [(1,), (3,)]
    assert scalar(guarded.owner, "SELECT count(*) FROM quarantine WHERE source = 'sales'") == 1
    committed = "SELECT count(*) FROM audit WHERE event = 'batch_committed' AND source = 'sales'"
    assert scalar(guarded.owner, committed) == 1
    entries = scalar(guarded.owner, "SELECT count(*) FROM audit")
    assert entries > ENTRIES and f"intact: {entries} entries" in _verify(guarded.owner)
    check = append_only_check(guarded.writer, True)
    assert check.status == "pass" and guarded.role in check.detail


def test_doctor_fails_on_look_alike_operators_a_writer_left_in_the_store_schema(
    guarded: Guarded,
) -> None:
    """The chain check names pg_catalog's operators, but every other session whose path
    holds the store's schema (the owner's too) would run a writer's ``=`` on varchar."""
    assert append_only_check(guarded.writer, True).status == "pass"
    with _as_writer(guarded) as con:
        for statement in _lookalikes(guarded.s):
            con.execute(statement)
    check = append_only_check(guarded.owner, True)
    assert check.status == "fail", check.detail
    assert "operator <> (character varying, character varying)" in check.detail
    assert "repeat(text, integer)" in check.detail and "same(bigint, bigint)" in check.detail
    assert "tidegate_audit" not in check.detail and "drop them" in check.todo


def test_doctor_fails_on_a_trigger_or_rule_a_writer_put_on_its_own_target_table(
    guarded: Guarded,
) -> None:
    """A writer owns a new source's target table; a trigger there would fire in the
    session of whoever loads the source next (the owner's too)."""
    contract = make_contract()
    row = {"order_id": "1", "status": "shipped", "amount": "5", "order_date": "2024-01-02"}
    commit_batch(guarded.writer, process(make_raw([row]), contract), contract)
    assert append_only_check(guarded.owner, True).status == "warn"  # the superuser owner
    with _as_writer(guarded) as con:
        con.execute(
            "CREATE FUNCTION pg_temp.escalate() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$"
        )
        con.execute(
            f"CREATE TRIGGER escalate BEFORE INSERT ON {guarded.s}.orders "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.escalate()"
        )
        con.execute(f"CREATE RULE keep AS ON UPDATE TO {guarded.s}.orders DO ALSO NOTHING")
        check = append_only_check(guarded.owner, True)  # while the writer's session lasts
    assert check.status == "fail", check.detail
    assert "trigger escalate on orders" in check.detail and "rule keep on orders" in check.detail
    assert "audit_chain_link" not in check.detail
