"""`tidegate run` exit codes that CI can branch on: 0 loaded, 3 data held back, 2 failed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from helpers import CLEAN_CSV, SOME_BAD_CSV, make_sales_project, query
from tidegate import EXIT_DATA_HELD, EXIT_FAILED, EXIT_OK
from tidegate.cli import app

runner = CliRunner()


def _run(project: Path, store: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["run", "sales", "--project", str(project), "--store", str(store)])
    return result.exit_code, " ".join(result.output.split())


def test_exit_0_when_every_batch_loads_even_with_rows_quarantined(
    tmp_path: Path, prefect_api: str
) -> None:
    project = make_sales_project(tmp_path / "p", {"a.csv": CLEAN_CSV, "b.csv": SOME_BAD_CSV})
    store = tmp_path / "s.duckdb"
    code, out = _run(project, store)
    assert code == EXIT_OK, out
    assert "data held back" not in out
    assert query(store, "SELECT count(*) FROM sales") == [(8,)]
    assert query(store, "SELECT count(*) FROM quarantine") == [(2,)]
    assert _run(project, store)[0] == EXIT_OK  # nothing new: skips are no data outcome


def test_exit_3_when_a_batch_is_held(tmp_path: Path, prefect_api: str) -> None:
    project = make_sales_project(
        tmp_path / "p", {"a.csv": CLEAN_CSV, "b.csv": SOME_BAD_CSV}, max_quarantine_ratio=0.2
    )
    store = tmp_path / "s.duckdb"
    code, out = _run(project, store)
    assert code == EXIT_DATA_HELD, out
    assert "data held back: 1 batch held (sales: b.csv)" in out
    assert query(store, "SELECT event FROM audit WHERE event LIKE 'batch_%' ORDER BY seq") == [
        ("batch_committed",),
        ("batch_held",),
    ]
    assert query(store, "SELECT count(*) FROM sales") == [(5,)]
    assert query(store, "SELECT count(*) FROM quarantine WHERE status = 'pending'") == [(5,)]
    # the next run has nothing new: the hold was reported once, the run is clean
    assert _run(project, store)[0] == EXIT_OK


def test_exit_3_when_a_file_is_rejected(tmp_path: Path, prefect_api: str) -> None:
    project = make_sales_project(
        tmp_path / "p", {"a.csv": CLEAN_CSV, "z.csv": b"\x00\x00binary\x00"}
    )
    store = tmp_path / "s.duckdb"
    code, out = _run(project, store)
    assert code == EXIT_DATA_HELD, out
    assert "1 file rejected (sales: z.csv)" in out
    assert query(store, "SELECT count(*) FROM sales") == [(5,)]
    assert query(store, "SELECT rules FROM quarantine") == [("_file.unreadable",)]


def test_exit_3_when_quarantine_is_above_the_monitors_threshold(
    tmp_path: Path, prefect_api: str
) -> None:
    project = make_sales_project(
        tmp_path / "p", {"b.csv": SOME_BAD_CSV}, monitor_quarantine_ratio=0.3
    )
    store = tmp_path / "s.duckdb"
    code, out = _run(project, store)
    assert code == EXIT_DATA_HELD, out
    assert "1 batch over the quarantine threshold (sales: b.csv)" in out
    assert query(store, "SELECT count(*) FROM sales") == [(3,)]  # loaded: an alert, not a hold
    assert query(store, "SELECT count(*) FROM audit WHERE event = 'alert_raised'") == [(1,)]


def test_exit_2_when_the_configuration_is_wrong(tmp_path: Path) -> None:
    project = make_sales_project(tmp_path / "p", {"a.csv": CLEAN_CSV})
    contract = project / "schemas" / "sales.yaml"
    contract.write_text(contract.read_text().replace("float64", "floaty"))
    store = tmp_path / "s.duckdb"
    code, out = _run(project, store)
    assert code == EXIT_FAILED, out
    assert "floaty" in out
    assert not store.exists()


def test_the_exit_codes_are_in_the_help() -> None:
    out = " ".join(runner.invoke(app, ["run", "--help"]).output.split())
    assert "Exit codes: 0 every batch loaded" in out
    assert "3 data held back" in out and "2 configuration or machinery failed" in out
