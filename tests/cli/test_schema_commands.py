from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from tidegate.cli import app
from tidegate.contracts import contract_from_dict

runner = CliRunner()


def test_schema_check_accepts_the_sample_contracts(project_root: Path) -> None:
    result = runner.invoke(app, ["schema", "check", "--project", str(project_root)])
    assert result.exit_code == 0, result.output
    for source in ("orders", "customers", "inventory"):
        assert f"source {source} v1" in result.output


def test_schema_check_refuses_a_bad_contract_naming_file_key_value_and_valid(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: orders\nversion: 1\ncolumns:\n  amount: {type: money}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["schema", "check", str(bad)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert str(bad.name) in text and "columns.amount.type" in text and "money" in text
    assert "decimal" in text  # says what would be valid


def test_schema_infer_writes_a_contract_that_checks(tmp_path: Path, project_root: Path) -> None:
    out = tmp_path / "orders.yaml"
    sample = project_root / "sample_data" / "orders" / "orders_2024-01.csv"
    result = runner.invoke(
        app, ["schema", "infer", str(sample), "--source", "orders", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    contract = contract_from_dict(yaml.safe_load(out.read_text()), str(out))
    assert contract.source == "orders" and "order_id" in contract.column_names
    assert runner.invoke(app, ["schema", "check", str(out)]).exit_code == 0


def test_schema_infer_on_an_unreadable_file_says_why(project_root: Path) -> None:
    sample = project_root / "sample_data" / "orders" / "orders_2024-04.csv"
    result = runner.invoke(app, ["schema", "infer", str(sample)])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["run", "--help"],
        ["demo", "--help"],
        ["schema", "check", "--help"],
        ["schema", "infer", "--help"],
        ["audit", "verify", "--help"],
        ["audit", "list", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, args
