"""Shared fixtures: paths, a contract builder, one Prefect API server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
IN_CI = os.environ.get("CI", "").lower() == "true"
# `backend`: the SQL source databases; `store`: each store backend (DuckDB, PostgreSQL)
pytest_plugins = ["sql_backends", "store_backends"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session", autouse=True)
def tidegate_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A TIDEGATE_HOME of the session's own, on a free port: a command that starts
    tidegate's background Prefect server never touches ~/.tidegate or port 4200, and
    whatever server the session started is stopped at its end."""
    from unittest import mock

    from tidegate.flows._server import stop_server

    home = tmp_path_factory.mktemp("tidegate-home")
    own = {"TIDEGATE_HOME": str(home), "TIDEGATE_SERVER_PORT": str(free_port())}
    with mock.patch.dict(os.environ, own):
        try:
            yield home
        finally:
            stop_server()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One temporary Prefect API for the whole session (starting one costs 10-15 s).

    Yields its URL so that CLI subprocesses can share it through PREFECT_API_URL.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        assert url, "the Prefect test harness did not set PREFECT_API_URL"
        old = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            if old is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = old


@pytest.fixture(scope="session")
def demo_template(
    tmp_path_factory: pytest.TempPathFactory, project_root: Path, prefect_api: str
) -> Path:
    """One store filled by the real `tidegate demo` (CLI and Prefect flow) on sample_data/.

    Built once per session; tests that change a store work on a copy (`copy_store`).
    """
    from typer.testing import CliRunner

    from tidegate.cli import app

    store = tmp_path_factory.mktemp("demo-template") / "tidegate.duckdb"
    result = CliRunner().invoke(
        app, ["demo", "--project", str(project_root), "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "Where to look next" in result.output
    return store
