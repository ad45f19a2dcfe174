"""`tidegate schema export-gx` and `import-gx`: the files they write, refusals, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tidegate.cli import app
from tidegate.contracts import load_contract

runner = CliRunner()


def _project(tmp_path: Path, project_root: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    shutil.copy(project_root / "schemas" / "orders.yaml", tmp_path / "schemas")
    return tmp_path


def test_export_writes_the_suite_beside_the_contract(tmp_path: Path, project_root: Path) -> None:
    project = _project(tmp_path, project_root)
    result = runner.invoke(app, ["schema", "export-gx", "orders", "--project", str(project)])
    assert result.exit_code == 0, result.output
    suite = json.loads((project / "schemas" / "orders.gx.json").read_text(encoding="utf-8"))
    assert suite["name"] == "orders"
    rules = [e["meta"]["tidegate_rule"] for e in suite["expectations"]]
    assert "amount.ge" in rules and "order_id.unique" in rules
    assert "not translated (2):" in result.output and "status.type" in result.output

    again = runner.invoke(app, ["schema", "export-gx", "orders", "--project", str(project)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = ["schema", "export-gx", "orders", "--project", str(project), "--force"]
    assert runner.invoke(app, forced).exit_code == 0


def test_export_of_an_unknown_source_is_one_line(tmp_path: Path, project_root: Path) -> None:
    project = _project(tmp_path, project_root)
    result = runner.invoke(app, ["schema", "export-gx", "nope", "--project", str(project)])
    assert result.exit_code == 2
    assert "no contract" in result.output and "Traceback" not in result.output


def test_import_writes_a_contract_that_loads(tmp_path: Path, project_root: Path) -> None:
    project = _project(tmp_path, project_root)
    out = project / "suites" / "orders.gx.json"
    export = ["schema", "export-gx", "orders", "--project", str(project), "--out", str(out)]
    assert runner.invoke(app, export).exit_code == 0
    target = project / "schemas" / "restored.yaml"
    cmd = ["schema", "import-gx", str(out), "--source", "restored", "--out", str(target)]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 0, result.output
    assert "every expectation was translated" in result.output
    contract = load_contract(target)
    assert contract.source == "restored" and contract.primary_key == ("order_id",)
    assert [c.kind for c in contract.column("amount").checks] == ["ge", "le"]


def test_import_keeps_the_suite_for_what_it_cannot_translate(tmp_path: Path) -> None:
    suite = tmp_path / "gx" / "shop.gx.json"
    suite.parent.mkdir()
    document = {
        "name": "shop",
        "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        ],
        "meta": {},
    }
    suite.write_text(json.dumps(document), encoding="utf-8")
    target = tmp_path / "schemas" / "shop.yaml"
    result = runner.invoke(app, ["schema", "import-gx", str(suite), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert "expect_table_row_count_to_be_between" in result.output
    text = target.read_text(encoding="utf-8")
    assert "suite: ../gx/shop.gx.json" in text
    contract = load_contract(target)
    assert contract.expectations is not None and contract.expectations.name == "shop"


def test_import_of_a_missing_or_invalid_file_exits_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["schema", "import-gx", str(tmp_path / "none.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    invalid = runner.invoke(app, ["schema", "import-gx", str(bad)])
    assert invalid.exit_code == 2 and "not JSON" in invalid.output
    bad.write_text("[]", encoding="utf-8")
    wrong = runner.invoke(app, ["schema", "import-gx", str(bad)])
    assert wrong.exit_code == 2 and "expectations" in wrong.output
    assert "Traceback" not in missing.output + invalid.output + wrong.output


def test_the_commands_do_not_import_gx(tmp_path: Path, project_root: Path) -> None:
    project = _project(tmp_path, project_root)
    code = (
        "import sys\n"
        "from tidegate.cli import app\n"
        "try:\n"
        f"    app(['schema', 'export-gx', 'orders', '--project', {str(project)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "try:\n"
        f"    app(['schema', 'import-gx', {str(project / 'schemas' / 'orders.gx.json')!r},"
        f" '--out', {str(project / 'o.yaml')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('great_expectations' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert (project / "o.yaml").is_file()
