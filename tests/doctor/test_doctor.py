"""`tidegate doctor` on the sample project after the demo, and on broken projects."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import typer
import yaml
from typer.testing import CliRunner

from helpers import copy_store
from sql_backends import require_service
from store_backends import (
    PG_HOST,
    PG_PORT,
    STORE_BACKENDS,
    pg_database_copy,
    reader_role_made,
    store_arg,
)
from tidegate.cli._report import doctor
from tidegate.doctor import CheckResult, DoctorReport, run_doctor
from tidegate.store import PostgresStore, Store, append_audit, ensure_store_tables, transaction

runner = CliRunner()
SOURCES = ("customers", "inventory", "orders")


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("doctor")(doctor)
    app.command("noop")(lambda: None)  # keep `doctor` a subcommand, as in the real app
    return app


def statuses(report: DoctorReport) -> dict[str, str]:
    return {r.item: r.status for r in report.results}


def by_item(report: DoctorReport, item: str) -> CheckResult:
    return next(r for r in report.results if r.item == item)


@pytest.fixture
def project(tmp_path: Path, project_root: Path) -> Path:
    """A copy of the sample project (pipelines, schemas, data) to break at will."""
    for folder in ("schemas", "pipelines", "sample_data"):
        shutil.copytree(project_root / folder, tmp_path / "p" / folder)
    return tmp_path / "p"


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def demo_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A module's own copy of the demo's store (built by the real CLI and flow), on each
    backend (PostgreSQL: a copy of the demo database)."""
    if request.param == "duckdb":
        template = request.getfixturevalue("demo_template")
        yield copy_store(template, tmp_path_factory.mktemp("doctor"))
        return
    with pg_database_copy(request.getfixturevalue("pg_demo_template")) as store:
        yield store


@pytest.mark.e2e
def test_sample_project_after_the_demo(project_root: Path, demo_store: Store) -> None:
    report = run_doctor(project_root, demo_store)
    s = statuses(report)
    for source in SOURCES:
        assert s[f"pipeline: {source}"] == "pass"
        assert s[f"contract: {source}"] == "pass"
        assert s[f"schedule: {source}"] == "fail"  # nothing can deploy a schedule yet
        assert s[f"pii: {source}"] == "pass"  # the samples mark name and email
        # thresholds: fail until a pipeline has a `monitor:` section with a threshold
        has_monitor = "monitor" in yaml.safe_load(
            (project_root / "pipelines" / f"{source}.yaml").read_text()
        )
        assert s[f"thresholds: {source}"] == ("pass" if has_monitor else "fail")
    assert s["pipelines"] == s["store"] == s["audit chain"] == "pass"
    assert "deploy" in by_item(report, "schedule: orders").todo
    # customers committed its only file; inventory and orders each have unreadable files
    assert s["last run: customers"] == "pass"
    assert s["last run: orders"] == "warn"
    assert (
        "orders_2024-03_latin1.csv, orders_2024-04.csv"
        in by_item(report, "last run: orders").detail
    )
    assert s["last run: inventory"] == "warn"
    assert not report.ok
    assert report.grade == (
        f"{report.count('pass')}/{len(report.results)} checks pass, "
        f"{report.count('warn')} warn, {report.count('fail')} fail"
    )


@pytest.mark.e2e
def test_cli_table_json_and_exit_code(project_root: Path, demo_store: Store) -> None:
    arg = store_arg(demo_store)
    table = runner.invoke(cli(), ["doctor", "-p", str(project_root), "--store", arg])
    assert table.exit_code == 1, table.output
    assert "checks pass" in table.output and "schedule: orders" in table.output
    out = runner.invoke(cli(), ["doctor", "-p", str(project_root), "--store", arg, "-f", "json"])
    assert out.exit_code == 1
    data = json.loads(out.output)
    assert data["ok"] is False and data["total"] == len(data["checks"])
    assert {c["status"] for c in data["checks"]} <= {"pass", "warn", "fail"}
    assert all(c["todo"] for c in data["checks"] if c["status"] == "fail")
    bad = runner.invoke(cli(), ["doctor", "-p", str(project_root), "-f", "xml"])
    assert bad.exit_code == 2 and "table or json" in bad.output


@pytest.mark.e2e
def test_a_ready_project_exits_0(project: Path, demo_store: Store) -> None:
    """Contracts, store, chain, thresholds, last run and PII pass; a declared schedule warns."""
    for source in ("inventory", "orders"):
        (project / "pipelines" / f"{source}.yaml").unlink()
    pipeline = project / "pipelines" / "customers.yaml"
    data = yaml.safe_load(pipeline.read_text())
    data["schedule"] = {"cron": "0 6 * * *"}
    data["monitor"] = {"max_quarantine_ratio": 0.5}
    pipeline.write_text(yaml.safe_dump(data))
    for source in ("inventory", "orders"):
        (project / "schemas" / f"{source}.yaml").unlink()
    if isinstance(demo_store, PostgresStore):  # `audit sql` must not run as a superuser
        with reader_role_made(demo_store):
            _assert_ready(project, demo_store)
    else:
        _assert_ready(project, demo_store)


def _assert_ready(project: Path, demo_store: Store) -> None:
    result = runner.invoke(cli(), ["doctor", "-p", str(project), "--store", store_arg(demo_store)])
    assert result.exit_code == 0, result.output
    report = run_doctor(project, demo_store)
    assert statuses(report)["schedule: customers"] == "warn"
    assert report.ok and report.count("fail") == 0


def test_bad_contract_and_tampered_audit(project: Path, tmp_path: Path) -> None:
    """DuckDB only: the audit is changed behind tidegate's back, in the file."""
    orders = project / "schemas" / "orders.yaml"
    orders.write_text(orders.read_text().replace("type: int64", "type: int65", 1))
    store = tmp_path / "s.duckdb"
    with transaction(store) as con:
        ensure_store_tables(con)
        for source in SOURCES:
            append_audit(con, "batch_committed", {"location": f"/{source}.csv"}, source=source)
    con2 = duckdb.connect(str(store))
    con2.execute('UPDATE audit SET detail = \'{"location":"/x.csv"}\' WHERE seq = 2')
    con2.close()
    report = run_doctor(project, store)
    s = statuses(report)
    assert s["contract: orders"] == "fail"
    contract = by_item(report, "contract: orders")
    assert "int65" in contract.detail and "schema check" in contract.todo
    assert s["contract: customers"] == "pass"
    assert s["store"] == "pass"
    assert s["audit chain"] == "fail"
    assert "broken at seq 2" in by_item(report, "audit chain").detail
    assert "pii: orders" not in s  # a contract that does not load is not graded further
    result = runner.invoke(cli(), ["doctor", "-p", str(project), "--store", str(store)])
    assert result.exit_code == 1


def test_missing_store_missing_contract_and_unmarked_pii(project: Path, store: Store) -> None:
    """``store`` is empty: no DuckDB file, or a PostgreSQL schema without tables."""
    (project / "pipelines" / "inventory.yaml").write_text(
        (project / "pipelines" / "inventory.yaml")
        .read_text()
        .replace("schemas/inventory.yaml", "schemas/nope.yaml")
    )
    customers = project / "schemas" / "customers.yaml"
    customers.write_text(
        customers.read_text()
        .replace("name: {type: string, nullable: false, pii: true}", "name: {type: string}")
        .replace(
            "signup_date:",
            "phone_number: {type: string}\n  birth_date: {type: date}\n  signup_date:",
        )
    )
    report = run_doctor(project, store)
    s = statuses(report)
    assert s["store"] == "fail" and "tidegate run" in by_item(report, "store").todo
    assert "nothing has been ingested" in by_item(report, "store").detail
    assert s["audit chain"] == "fail"
    assert all(s[f"last run: {src}"] == "fail" for src in SOURCES)
    assert s["contract: inventory"] == "fail"
    assert "nope.yaml does not exist" in by_item(report, "contract: inventory").detail
    assert s["contract: schemas/inventory.yaml"] == "warn"  # no pipeline uses it any more
    pii = by_item(report, "pii: customers")
    assert pii.status == "warn"
    assert pii.detail.endswith("lack `pii: true`: name, phone_number, birth_date")
    assert s["pii: orders"] == "pass"


def test_last_run_held_rejected_and_reprocessed(project: Path, store: Store) -> None:
    with transaction(store) as con:
        ensure_store_tables(con)
        # orders: a held file, skipped on the next run: still held
        append_audit(con, "batch_held", {"location": "/o.csv"}, source="orders", batch_id="o1")
        append_audit(con, "batch_skipped", {"location": "/o.csv"}, source="orders", batch_id="o1")
        # customers: held, then reprocessed under a fixed contract: fine
        append_audit(con, "batch_held", {"location": "/c.csv"}, source="customers", batch_id="c1")
        append_audit(
            con, "batch_reprocessed", {"location": "/c.csv"}, source="customers", batch_id="c2"
        )
        # inventory: one good file, one unreadable
        append_audit(con, "batch_committed", {"location": "/i.pq"}, source="inventory")
        append_audit(con, "file_rejected", {"location": "/bad.pq"}, source="inventory")
    report = run_doctor(project, store)
    s = statuses(report)
    assert s["last run: orders"] == "fail"
    held = by_item(report, "last run: orders")
    assert "held" in held.detail and "o.csv" in held.detail and "--reprocess" in held.todo
    assert s["last run: customers"] == "pass"
    assert s["last run: inventory"] == "warn"
    assert "bad.pq" in by_item(report, "last run: inventory").detail


def test_no_pipelines_and_a_bad_pipeline_file(tmp_path: Path, project: Path) -> None:
    empty = run_doctor(tmp_path / "empty", tmp_path / "none.duckdb")
    assert statuses(empty)["pipelines"] == "fail" and not empty.ok
    (project / "pipelines" / "orders.yaml").write_text("name: orders\nsource: [1, 2\n")
    (project / "pipelines" / "inventory.yaml").write_text(
        (project / "pipelines" / "inventory.yaml").read_text().replace("kind: file", "kind: ftp")
    )
    report = run_doctor(project, tmp_path / "none.duckdb")
    s = statuses(report)
    assert s["pipeline: orders"] == "fail" and "YAML" in by_item(report, "pipeline: orders").detail
    assert s["contract: orders"] == "fail"
    assert s["pipeline: inventory"] == "fail"
    assert "ftp" in by_item(report, "pipeline: inventory").detail


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.postgres
@pytest.mark.parametrize("problem", ["server down", "no such database", "unset ${VAR}"])
def test_an_unreadable_postgres_store_fails_the_store_check(
    project: Path, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PostgreSQL store's errors (StoreUnavailableError, StoreError) are a failed
    check with what to do, never a traceback; the password is never shown."""
    monkeypatch.delenv("TG_TEST_NO_SUCH_VAR", raising=False)
    if problem == "server down":
        url = f"postgresql://tidegate:s3cret@127.0.0.1:{_closed_port()}/test"
    elif problem == "no such database":
        require_service("PostgreSQL", PG_HOST, PG_PORT)
        url = f"postgresql://postgres:s3cret@{PG_HOST}:{PG_PORT}/tg_no_such_database"
    else:
        url = "postgresql://postgres:s3cret@${TG_TEST_NO_SUCH_VAR}/test"
    report = run_doctor(project, PostgresStore(url))
    store = by_item(report, "store")
    assert store.status == "fail" and statuses(report)["audit chain"] == "fail"
    assert {"server down": "does not answer", "no such database": "does not exist"}.get(
        problem, "TG_TEST_NO_SUCH_VAR is not set"
    ) in store.detail
    assert "PostgreSQL server" in store.todo
    assert all(s == "fail" for i, s in statuses(report).items() if i.startswith("last run"))
    result = runner.invoke(cli(), ["doctor", "-p", str(project), "--store", url, "-f", "json"])
    assert result.exit_code == 1, result.output
    assert "s3cret" not in result.output
    assert {c["item"]: c["status"] for c in json.loads(result.output)["checks"]}["store"] == "fail"


def test_report_and_doctor_do_not_import_prefect(project_root: Path, store: Store) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from typer.testing import CliRunner\n"
        "import typer\n"
        "from tidegate.cli._report import doctor, report\n"
        "app = typer.Typer(); app.command('doctor')(doctor); app.command('report')(report)\n"
        f"r = CliRunner().invoke(app, ['doctor', '-p', {str(project_root)!r},"
        f" '--store', {store_arg(store)!r}])\n"
        "assert r.exit_code == 1, r.output\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'prefect']\n"
        "assert not bad, bad[:5]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("column", "pii"),
    [
        ("email", True),
        ("contact_email", True),
        ("phone", True),
        ("mobile_no", True),
        ("name", True),
        ("last_name", True),
        ("billing_address", True),
        ("ssn", True),
        ("date_of_birth", True),
        ("birthdate", True),
        ("firstName", True),
        ("classname", False),
        ("sku", False),
        ("warehouse", False),
        ("amount", False),
        ("lessons", False),
    ],
)
def test_pii_names(column: str, pii: bool) -> None:
    from tidegate.doctor._project import looks_like_pii

    assert looks_like_pii(column) is pii


@pytest.mark.e2e
def test_append_only_audit_check_names_who_could_rewrite_it(
    project_root: Path, demo_store: Store
) -> None:
    """DuckDB: a warning (a file cannot refuse a rewrite). PostgreSQL as the owner (here
    the superuser that built the demo): enforced, but the role could drop the triggers."""
    result = by_item(run_doctor(project_root, demo_store), "append-only audit")
    assert result.status == "warn"
    if isinstance(demo_store, PostgresStore):
        assert "enforced by triggers" in result.detail and "superuser" in result.detail
        assert "--grant-writer" in result.todo
    else:
        assert "DuckDB file cannot refuse" in result.detail
        assert "tidegate audit checkpoint" in result.todo


@pytest.mark.postgres
def test_append_only_audit_passes_for_a_writer_role_and_fails_without_triggers(
    project_root: Path, tmp_path: Path
) -> None:
    import psycopg

    from store_backends import make_store, writer_role

    owner = make_store("postgres", tmp_path)
    assert isinstance(owner, PostgresStore)
    with writer_role(owner) as (writer, _):
        role = writer.url.split("://", 1)[1].split("@", 1)[0]
        with transaction(writer) as con:
            append_audit(con, "batch_committed", {}, source="orders", actor="t")
        result = by_item(run_doctor(project_root, writer), "append-only audit")
        assert result.status == "pass" and role in result.detail
        with psycopg.connect(owner.conninfo(), autocommit=True) as con:
            con.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
        result = by_item(run_doctor(project_root, writer), "append-only audit")
        assert result.status == "fail" and "audit_append_only" in result.detail
        assert "tidegate store init" in result.todo
