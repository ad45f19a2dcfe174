"""`tidegate run` refuses bad invocations and bad pipelines before any data moves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tidegate.cli import app

runner = CliRunner()


def test_run_needs_a_source_or_all(project_root: Path) -> None:
    result = runner.invoke(app, ["run", "--project", str(project_root)])
    assert result.exit_code == 2 and "--all" in result.output


def test_unknown_pipeline_suggests_the_close_one(project_root: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", "ordrs", "--project", str(project_root), "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "'ordrs'" in out and "did you mean 'orders'" in out
    assert not (tmp_path / "s.duckdb").exists()


def test_pipeline_with_unknown_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "x.yaml").write_text(
        "name: x\nsource: {kind: file, path: a.csv}\ncontract: c.yaml\nschedul: daily\n"
    )
    result = runner.invoke(app, ["run", "--all", "--project", str(tmp_path)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "schedul" in out and "did you mean 'schedule'" in out


def test_audit_verify_on_a_missing_store_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--store", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "tidegate demo" in " ".join(result.output.split())


def test_read_only_commands_do_not_import_prefect() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tidegate.cli import app\n"
        "CliRunner().invoke(app, ['audit', 'verify', '--store', '/nonexistent/x.duckdb'])\n"
        "CliRunner().invoke(app, ['audit', 'list', '--store', '/nonexistent/x.duckdb'])\n"
        "heavy = [m for m in ('prefect', 'great_expectations', 'pandera') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_glob_matching_nothing_fails_before_prefect_starts(
    tmp_path: Path, project_root: Path
) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "orders.yaml").write_text(
        (project_root / "schemas" / "orders.yaml").read_text()
    )
    (tmp_path / "pipelines" / "orders.yaml").write_text(
        "name: orders\nsource: {kind: file, path: data/*.csv}\ncontract: schemas/orders.yaml\n"
    )
    store = tmp_path / "s.duckdb"
    result = runner.invoke(
        app, ["run", "orders", "--project", str(tmp_path), "--store", str(store)]
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "data/*.csv" in out and "matches no file" in out and str(tmp_path / "data") in out
    assert "Prefect starts" not in out  # refused before any flow ran
    assert not store.exists()
