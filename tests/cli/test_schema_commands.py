from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tidegate.cli import app
from tidegate.contracts import contract_from_dict, load_contract
from tidegate.errors import ContractError
from tidegate.reference import contract_json_schema, pipeline_json_schema

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
        ["schema", "json-schema", "--help"],
        ["audit", "verify", "--help"],
        ["audit", "list", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, args


THREE_MISTAKES = """\
source: orders
version: 1
descripton: a typo of description
columns:
  order_id: {type: int64}
  amount: {type: money}
  status: {type: string, checks: [{gte: 0}]}
"""


def test_schema_check_reports_every_problem_of_a_file_then_a_count(
    tmp_path: Path, project_root: Path
) -> None:
    bad = tmp_path / "three.yaml"
    bad.write_text(THREE_MISTAKES, encoding="utf-8")
    good = project_root / "schemas" / "orders.yaml"
    result = runner.invoke(app, ["schema", "check", str(bad), str(good)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert text.count("✗") == 3
    for key, value, valid in (
        ("descripton", "'descripton'", "did you mean 'description'?"),
        ("columns.amount.type", "'money'", "decimal(p,s)"),
        ("columns.status.checks[0].gte", "'gte'", "one of ge, gt"),
    ):
        assert f"{bad}: {key}: {value} is not valid; expected" in text, key
        assert valid in text, key
    assert f"{bad}: 3 problems" in text
    assert "3 problems in 1 of 2 files" in text
    assert "✓" in text and "source orders v1" in text  # the good file still checked


def test_load_contract_raises_one_error_carrying_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "three.yaml"
    bad.write_text(THREE_MISTAKES, encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_contract(bad)
    error = raised.value
    assert (error.file, error.key, error.value) == (str(bad), "descripton", "descripton")
    assert [p.key for p in error.problems] == [
        "descripton",
        "columns.amount.type",
        "columns.status.checks[0].gte",
    ]
    message = str(error)
    assert "\n" not in message and message.startswith(f"{bad}: 3 problems: (1) descripton")
    assert "(3) columns.status.checks[0].gte" in message


def test_schema_json_schema_prints_or_writes_the_generated_schema(
    tmp_path: Path, project_root: Path
) -> None:
    printed = runner.invoke(app, ["schema", "json-schema"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == contract_json_schema()

    out = tmp_path / "pipeline.json"
    wrote = runner.invoke(app, ["schema", "json-schema", "pipeline", "-o", str(out)])
    assert wrote.exit_code == 0, wrote.output
    assert json.loads(out.read_text(encoding="utf-8")) == pipeline_json_schema()
    committed = project_root / "jsonschema" / "pipeline.json"
    assert out.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")

    nowhere = tmp_path / "missing" / "dir" / "x.json"
    failed = runner.invoke(app, ["schema", "json-schema", "contract", "-o", str(nowhere)])
    assert failed.exit_code == 2 and isinstance(failed.exception, SystemExit)
    assert f"cannot write {nowhere}" in " ".join(failed.output.split())
    assert not nowhere.exists()

    unknown = runner.invoke(app, ["schema", "json-schema", "contracts"])
    assert unknown.exit_code == 2 and "contract" in unknown.output
