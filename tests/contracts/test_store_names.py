"""Names valid for a contract but not for PostgreSQL (the default DuckDB store takes them,
but a project moves to PostgreSQL) are refused by the loader: by `schema check`, naming
the limit and the next step, and at run time as a configuration error (exit 2)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from helpers import make_sales_project
from tidegate import EXIT_FAILED
from tidegate.cli import app
from tidegate.contracts import contract_from_dict
from tidegate.errors import ContractError

BASE: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "columns": {"order_id": {"type": "int64"}, "status": {"type": "string"}},
}
LONG = "a" * 64  # 64 bytes: one over PostgreSQL's 63


def _with_column(name: str) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["columns"][name] = {"type": "string"}
    return data


@pytest.mark.parametrize("name", ["ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid"])
def test_a_system_column_name_is_refused(name: str) -> None:
    with pytest.raises(ContractError) as caught:
        contract_from_dict(_with_column(name))
    err = caught.value
    assert err.key == f"columns.{name}" and err.value == name
    assert "PostgreSQL's system columns" in err.valid
    assert f"aliases: [{name}]" in err.valid  # the next step: keep the header mapped


def test_a_column_name_over_63_bytes_is_refused_and_63_is_fine() -> None:
    with pytest.raises(ContractError) as caught:
        contract_from_dict(_with_column(LONG))
    assert caught.value.key == f"columns.{LONG}"
    assert "63 bytes at most (PostgreSQL's limit for a name; this one has 64)" in str(caught.value)
    assert "shorten it" in str(caught.value)
    assert contract_from_dict(_with_column("a" * 63)).column("a" * 63).type == "string"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("pg_class", "not starting with 'pg_'"),
        ("pg_orders", "not starting with 'pg_'"),
        ("s" * 64, "63 bytes at most (PostgreSQL's limit for a name; this one has 64)"),
    ],
)
def test_a_source_name_postgresql_cannot_hold_is_refused(source: str, expected: str) -> None:
    with pytest.raises(ContractError) as caught:
        contract_from_dict({**BASE, "source": source})
    assert caught.value.key == "source" and expected in str(caught.value)


def test_names_with_pg_or_oid_inside_are_fine() -> None:
    contract = contract_from_dict({**_with_column("order_oid"), "source": "orders_pg_copy"})
    assert contract.source == "orders_pg_copy" and "order_oid" in contract.column_names


def test_schema_check_refuses_them_all_in_one_go(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    data = {**_with_column("xmin"), "source": "pg_class"}
    data["columns"][LONG] = {"type": "int64"}
    (schemas / "bad.yaml").write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["schema", "check", "--project", str(tmp_path)])
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "source: 'pg_class' is not valid" in out
    assert "columns.xmin: 'xmin' is not valid" in out
    assert "this one has 64" in out
    assert "3 problems in 1 of 1 file" in out
    assert "Traceback" not in result.output


def test_a_run_with_such_a_contract_is_a_configuration_error(tmp_path: Path) -> None:
    project = make_sales_project(tmp_path / "p", {"a.csv": "id,oid\n1,2\n"})
    contract = project / "schemas" / "sales.yaml"
    data = yaml.safe_load(contract.read_text())
    data["columns"] = {"id": data["columns"]["id"], "oid": {"type": "int64"}}
    contract.write_text(yaml.safe_dump(data))
    store = tmp_path / "s.duckdb"
    args = ["run", "sales", "--project", str(project), "--store", str(store)]
    result = CliRunner().invoke(app, args)
    out = " ".join(result.output.split())
    assert result.exit_code == EXIT_FAILED, out
    assert "columns.oid: 'oid' is not valid" in out and "PostgreSQL's system columns" in out
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not store.exists()  # refused before any data moved


def test_the_sample_contracts_pass(project_root: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "check", "--project", str(project_root)])
    assert result.exit_code == 0, result.output


def test_schema_infer_proposes_names_every_store_holds() -> None:
    import polars as pl

    from tidegate.contracts import infer_contract

    frame = pl.DataFrame({"oid": ["1"], "x" * 70: ["2"], "xmin": ["3"]})
    contract = contract_from_dict(yaml.safe_load(infer_contract(frame, "things")))
    assert contract.column_names == ["oid_value", "x" * 59, "xmin_value"]
    assert contract.normalize.rename == {
        "oid": "oid_value",
        "x" * 70: "x" * 59,
        "xmin": "xmin_value",
    }
    with pytest.raises(ContractError, match="not starting with 'pg_'"):
        infer_contract(frame, "pg_things")
