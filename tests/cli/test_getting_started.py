"""A team's first hour: `tidegate init`, `tidegate new source`, `tidegate schema infer`
on a messy file, then a real `tidegate run` and a look inside the store."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import jsonschema
import yaml
from typer.testing import CliRunner

from helpers import query
from tidegate.cli import app
from tidegate.contracts import contract_from_dict, load_contract
from tidegate.reference import json_schema_text

runner = CliRunner()
TIDEGATE = Path(sys.executable).parent / "tidegate"


def flat(output: str) -> str:
    """The output with the console's line wrapping undone."""
    return output.replace("\n", "")


def messy_invoices(path: Path) -> int:
    """An invoices export as people send them; returns its number of data rows.

    Dates in three formats (day first: 13/02/2024 rules out month first), amounts with
    "$" and thousands separators, "N/A" and "-" for nulls, yes/no, a status of four
    values in mixed case, and one ragged row."""
    statuses = ["open", "paid", "PAID", "void", "overdue"]
    lines = ["Invoice ID,Customer,Status,Amount,Issued On,Paid,Note"]
    for i in range(40):
        day = i % 28 + 1
        issued = (
            f"2024-02-{day:02d}",
            f"{day:02d}/02/2024",
            f"{day:02d}-Feb-2024",
        )[i % 3]
        amount = (
            "N/A" if i == 7 else f'"${(i * 1234.5) % 9000 + 1000:,.2f}"' if i % 2 else f"${i}.50"
        )
        paid = "-" if i == 11 else ("yes" if i % 4 else "no")
        lines.append(f"{1000 + i},Customer {i % 9},{statuses[i % 5]},{amount},{issued},{paid},n{i}")
    lines.insert(20, "1999,Broken,open,$5.00,2024-02-01")  # ragged: 5 fields, header has 7
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def test_schema_infer_guesses_what_normalization_makes_parse(tmp_path: Path) -> None:
    data = tmp_path / "invoices.csv"
    messy_invoices(data)
    out = tmp_path / "schemas" / "invoices.yaml"  # schemas/ does not exist yet
    result = runner.invoke(app, ["schema", "infer", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    c = load_contract(out)
    assert c.primary_key == ("invoice_id",)
    assert {col.name: col.type for col in c.columns} == {
        "invoice_id": "int64",
        "customer": "string",
        "status": "string",
        "amount": "decimal(18,2)",
        "issued_on": "date",
        "paid": "bool",
        "note": "string",
    }
    assert c.column("amount").normalize.strip == ("$", ",")
    assert [(k.kind, k.args) for k in c.column("amount").checks] == [("ge", 0), ("le", 9800.5)]
    assert c.column("amount").nullable and not c.column("status").nullable
    assert set(c.column("issued_on").formats) == {"%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y"}
    assert c.column("status").normalize.lower
    assert [(k.kind, k.args) for k in c.column("status").checks] == [
        ("isin", ["open", "overdue", "paid", "void"])
    ]
    assert c.column("note").checks == ()  # unique text: no isin
    assert {"N/A", "-"} <= set(c.normalize.null_values)
    assert 0.05 <= c.policy.max_quarantine_ratio < 0.2
    text = out.read_text()
    assert "# 1 row(s) not used for the guess (ragged row; record 21)" in text
    assert "  # inferred: every value is a number once '$' and ',' are removed" in text
    assert "ragged row" in result.output and "why" in result.output  # the report


def test_schema_infer_keeps_stdout_yaml_clean_and_refuses_an_unwritable_output(
    tmp_path: Path,
) -> None:
    data = tmp_path / "invoices.csv"
    messy_invoices(data)
    proc = subprocess.run(
        [str(TIDEGATE), "schema", "infer", str(data)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert contract_from_dict(yaml.safe_load(proc.stdout)).source == "invoices"
    assert "ragged row" in proc.stderr and "inferred contract" in proc.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = subprocess.run(
        [str(TIDEGATE), "schema", "infer", str(data), "-o", str(blocker / "x.yaml")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    message = " ".join(bad.stderr.split())
    assert f"error: cannot write {blocker / 'x.yaml'}" in message and "-o" in message


def test_init_refuses_to_overwrite_and_new_source_too(tmp_path: Path) -> None:
    project = tmp_path / "p"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    (project / "schemas" / "example.yaml").write_text("# mine\n")
    again = runner.invoke(app, ["init", str(project)])
    assert again.exit_code == 2
    assert "will not overwrite" in again.output and "--force" in again.output
    assert str(project / "schemas" / "example.yaml") in flat(again.output)
    assert (project / "schemas" / "example.yaml").read_text() == "# mine\n"  # untouched
    assert runner.invoke(app, ["init", str(project), "--force"]).exit_code == 0
    assert load_contract(project / "schemas" / "example.yaml").source == "example"

    data = tmp_path / "invoices.csv"
    messy_invoices(data)
    args = ["new", "source", "invoices", "--from", str(data), "-p", str(project)]
    assert runner.invoke(app, args).exit_code == 0
    before = (project / "pipelines" / "invoices.yaml").read_text()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert str(project / "pipelines" / "invoices.yaml") in flat(refused.output)
    assert (project / "pipelines" / "invoices.yaml").read_text() == before
    bad_name = runner.invoke(app, ["new", "source", "Bad Name", "--from", str(data)])
    assert bad_name.exit_code == 2 and "Bad Name" in bad_name.output
    assert bad_name.exception is None or isinstance(bad_name.exception, SystemExit)
    reserved = runner.invoke(
        app, ["new", "source", "audit", "--from", str(data), "-p", str(project)]
    )
    assert reserved.exit_code == 2 and "audit" in reserved.output
    assert not (project / "pipelines" / "audit.yaml").exists()


def test_init_then_new_source_then_run_loads_both(tmp_path: Path, prefect_api: str) -> None:
    project = tmp_path / "p"
    init = runner.invoke(app, ["init", str(project)])
    assert init.exit_code == 0, init.output
    assert "tidegate run example" in init.output
    for rel, schema in (
        ("schemas/example.yaml", "contract"),
        ("pipelines/example.yaml", "pipeline"),
    ):
        first = (project / rel).read_text().splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../jsonschema/{schema}.json"
        # the schema the modeline names is there, and the file init wrote is valid by it
        written = json.loads((project / "jsonschema" / f"{schema}.json").read_text())
        assert written == json.loads(json_schema_text(schema))
        jsonschema.validate(yaml.safe_load((project / rel).read_text()), written)
    assert ".tidegate/" in (project / ".gitignore").read_text().splitlines()
    check = runner.invoke(app, ["schema", "check", "-p", str(project)])
    assert check.exit_code == 0, check.output

    data = tmp_path / "exports" / "invoices.csv"
    data.parent.mkdir()
    rows = messy_invoices(data)
    new = runner.invoke(app, ["new", "source", "invoices", "--from", str(data), "-p", str(project)])
    assert new.exit_code == 0, new.output
    assert "tidegate run invoices" in new.output
    # the file is outside the project: the pipeline allows its folder, by name
    written = (project / "pipelines" / "invoices.yaml").read_text()
    assert f'allowed_paths: ["{data.parent.resolve()}"]' in written
    assert (
        (project / "schemas" / "invoices.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../jsonschema/contract.json\n")
    )

    store = tmp_path / "x.duckdb"
    run = runner.invoke(app, ["run", "--all", "-p", str(project), "--store", str(store)])
    assert run.exit_code == 0, run.output
    # the example: 8 rows, one with status "lost" quarantined
    assert query(store, "SELECT count(*) FROM example") == [(7,)]
    ((rules,),) = query(store, "SELECT rules FROM quarantine WHERE source = 'example'")
    assert "status.isin" in rules
    # the messy file: every row but the ragged one loaded, and the counts add up
    loaded = query(store, "SELECT count(*) FROM invoices")[0][0]
    held = query(store, "SELECT count(*) FROM quarantine WHERE source = 'invoices'")[0][0]
    assert (loaded, held) == (rows - 1, 1)
    assert query(store, "SELECT amount, paid FROM invoices WHERE invoice_id = 1001") == [
        (Decimal("2234.50"), True)
    ]
    verify = runner.invoke(app, ["audit", "verify", "--store", str(store)])
    assert verify.exit_code == 0 and "intact" in verify.output
    events = query(store, "SELECT source, event FROM audit ORDER BY source")
    assert events == [("example", "batch_committed"), ("invoices", "batch_committed")]


def test_init_and_new_source_have_help_on_every_option() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for path in (["init"], ["new", "source"], ["schema", "infer"]):
        command = group
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert command.help, path
        for param in command.params:
            assert getattr(param, "help", None), (path, param.name)
