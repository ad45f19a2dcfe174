"""The databases the SQL source tests run against: PostgreSQL and MariaDB on this machine,
and SQLite. A backend that does not answer is skipped locally and FAILS under CI=true.

Registered as a pytest plugin in tests/conftest.py, so the ``backend`` fixture serves both
tests/sources/test_sql_source.py and tests/e2e/test_sql_incremental.py.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgres", "mariadb")


def service_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(kind: str, host: str, port: int) -> None:
    """Skip when the database does not answer; under CI=true that is a failure instead."""
    if service_answers(host, port):
        return
    message = f"{kind} is not answering on {host}:{port} (start it with .ci/run)"
    if IN_CI:
        pytest.fail(message + "; CI must provide it")
    pytest.skip(message)


@dataclass
class Backend:
    """One database with a scratch table: run SQL on it, and its URL for tidegate."""

    kind: str
    url: str
    table: str
    sqlite_path: Path | None = None

    @property
    def timestamp_type(self) -> str:
        return {"postgres": "TIMESTAMP", "mariadb": "DATETIME(6)", "sqlite": "TIMESTAMP"}[self.kind]

    def execute(self, *statements: str) -> None:
        if self.kind == "sqlite":
            assert self.sqlite_path is not None
            with sqlite3.connect(self.sqlite_path) as con:
                for sql in statements:
                    con.execute(sql)
            return
        script = ";\n".join(statements) + ";"
        if self.kind == "postgres":
            cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q"]
            cmd += ["-v", "ON_ERROR_STOP=1", "-c", script]
        else:
            cmd = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", "test", "-e", script]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr

    def create_items(self) -> None:
        self.execute(
            f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, name VARCHAR(40), "
            f"amount DECIMAL(10,2), updated_at {self.timestamp_type})"
        )

    def insert(self, *rows: tuple[int, str | None, str, str]) -> None:
        values = ", ".join(
            f"({i}, {'NULL' if n is None else repr(n)}, {a}, '{t}')" for i, n, a, t in rows
        )
        self.execute(f"INSERT INTO {self.table} (id, name, amount, updated_at) VALUES {values}")

    def drop(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {self.table}")


def make_backend(kind: str, tmp_path: Path) -> Backend:
    table = f"tg_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = tmp_path / "source.sqlite"
        sqlite3.connect(path).close()
        return Backend(kind, f"sqlite://{path}", table, sqlite_path=path)
    if kind == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return Backend(kind, "postgresql://postgres@127.0.0.1:5432/test", table)
    require_service("MariaDB", "127.0.0.1", 3306)
    return Backend(kind, "mysql://root@127.0.0.1:3306/test", table)


BACKEND_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A backend with a unique scratch table name, dropped afterwards."""
    db = make_backend(request.param, tmp_path)
    db.drop()
    try:
        yield db
    finally:
        db.drop()


CONTRACT = """\
source: items
version: 1
primary_key: [id]
columns:
  id: {type: int64, nullable: false}
  name: {type: string}
  amount: {type: "decimal(10,2)"}
  updated_at: {type: string, nullable: false}
policy:
  on_row_failure: quarantine
  on_existing_key: update
  max_quarantine_ratio: 1.0
"""


def write_contract(folder: Path) -> Path:
    path = folder / "schemas" / "items.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONTRACT)
    return path


ROWS = [
    (1, "ann", "10.50", "2024-01-01 10:00:00"),
    (2, "bob", "20.00", "2024-01-01 11:00:00"),
    (3, "cy", "30.25", "2024-01-01 11:00:00"),  # same cursor value as row 2
    (4, None, "40.00", "2024-01-01 12:00:00"),
    (5, "eve", "50.00", "2024-01-01 13:00:00"),
]


def make_project(tmp_path: Path, backend: Backend, chunk_size: int) -> Path:
    """A project with the items contract and an incremental `items` pipeline on ``backend``."""
    project = tmp_path / "project"
    write_contract(project)
    (project / "pipelines").mkdir()
    # a SQLite file beside the project is outside it: the pipeline allows its folder
    allowed = f"allowed_paths: [{backend.sqlite_path.parent}]\n" if backend.sqlite_path else ""
    (project / "pipelines" / "items.yaml").write_text(
        "name: items\n" + allowed + "source:\n"
        "  kind: sql\n"
        f"  url: {backend.url}\n"
        f"  table: {backend.table}\n"
        "  cursor: updated_at\n"
        f"  chunk_size: {chunk_size}\n"
        "contract: schemas/items.yaml\n"
    )
    return project
