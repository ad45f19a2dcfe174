"""diff_contracts / Contract.diff: each kind of change, said in words; and the text a
contract was loaded from, which contract_from_text rebuilds it from."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tidegate import ContractDiff
from tidegate.contracts import contract_from_dict, contract_from_text, diff_contracts, load_contract
from tidegate.errors import ContractError

BASE: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "primary_key": ["order_id"],
    "normalize": {"null_values": ["", "N/A"], "trim": True},
    "columns": {
        "order_id": {"type": "int64", "nullable": False},
        "status": {
            "type": "string",
            "normalize": {"lower": True},
            "checks": [{"isin": ["pending", "shipped"]}],
        },
        "amount": {"type": "float64", "checks": [{"ge": 0}]},
        "email": {"type": "string"},
    },
}


def changed(edit: Any) -> ContractDiff:
    data = copy.deepcopy(BASE)
    edit(data)
    return contract_from_dict(BASE).diff(contract_from_dict(data))


def kinds(d: ContractDiff) -> list[str]:
    return [c.kind for c in d.changes]


def test_the_same_contract_has_no_change() -> None:
    d = diff_contracts(contract_from_dict(BASE), contract_from_dict(copy.deepcopy(BASE)))
    assert not d and d.changes == () and d.lines() == ["no change: the two contracts say the same"]


def test_columns_added_removed_and_renamed() -> None:
    def edit(data: dict[str, Any]) -> None:
        cols = data["columns"]
        cols["note"] = {"type": "string"}
        del cols["email"]
        cols["total"] = {**cols.pop("amount"), "aliases": ["amount"]}

    d = changed(edit)
    assert d.renamed == {"amount": "total"}
    assert "column note added (string, nullable)" in d.lines()
    assert "column email removed" in d.lines()
    assert "column amount renamed to total" in d.lines()
    # the renamed column keeps its check: not reported as removed and added
    assert not [c for c in d.changes if c.kind.startswith("check_")]


def test_a_rename_by_normalize_rename() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["columns"]["mail"] = data["columns"].pop("email")
        data["normalize"]["rename"] = {"email": "mail"}

    d = changed(edit)
    assert d.renamed == {"email": "mail"}
    assert "normalize_changed" in kinds(d)


def test_type_and_flags() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["columns"]["amount"]["type"] = "decimal(12,2)"
        data["columns"]["email"].update(nullable=False, unique=True, pii=True)

    d = changed(edit)
    assert kinds(d) == ["type_changed", "nullable_changed", "unique_changed", "pii_changed"]
    assert "column amount: type float64 → decimal(12,2)" in d.lines()
    assert "column email: nullable true → false" in d.lines()
    assert "column email: pii false → true" in d.lines()


def test_checks_added_removed_and_changed() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["columns"]["amount"]["checks"] = [{"ge": 1}, {"le": 100}]
        del data["columns"]["status"]["checks"]

    d = changed(edit)
    assert set(kinds(d)) == {"check_added", "check_removed", "check_changed"}
    assert "column amount: check amount.ge 0 → 1" in d.lines()
    assert "column amount: check amount.le added: 100" in d.lines()
    assert "column status: check status.isin removed" in d.lines()
    (change,) = [c for c in d.changes if c.kind == "check_changed"]
    assert (change.subject, change.before, change.after) == ("amount.ge", 0, 1)


def test_normalization_global_and_per_column() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["normalize"] = {"null_values": ["", "N/A", "-"], "trim": False}
        data["columns"]["status"]["normalize"] = {"lower": False, "map": {"sent": "shipped"}}

    d = changed(edit)
    assert "normalize.trim true → false" in d.lines()
    assert 'normalize.null_values ["", N/A] → ["", N/A, -]' in d.lines()
    assert "column status: normalize.lower true → false" in d.lines()
    assert "column status: normalize.map none → {sent: shipped}" in d.lines()


def test_policy_primary_key_and_version() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["version"] = 2
        data["policy"] = {"max_quarantine_ratio": 0.1, "on_existing_key": "quarantine"}
        data["primary_key"] = ["order_id", "email"]

    d = changed(edit)
    assert d.lines() == [
        "version 1 → 2",
        "column email: nullable true → false",  # a primary key column is never null
        "policy.on_existing_key update → quarantine",
        "policy.max_quarantine_ratio 1.0 → 0.1",
        "primary key [order_id] → [order_id, email]",
    ]
    assert d.to_dict()["changes"][4]["after"] == ["order_id", "email"]
    json.dumps(d.to_dict())  # every value JSON can write


def _suite(folder: Path, expectations: list[dict[str, Any]]) -> None:
    (folder / "orders.gx.json").write_text(
        json.dumps({"name": "orders", "expectations": expectations})
    )


def test_expectations_suite_changes(tmp_path: Path) -> None:
    pytest.importorskip("great_expectations")
    plain = contract_from_dict(BASE)
    _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount", "min_value": 0},
            }
        ],
    )
    with_suite = {**copy.deepcopy(BASE), "expectations": {"suite": "orders.gx.json"}}
    first = contract_from_dict(with_suite, str(tmp_path / "orders.yaml"))
    assert kinds(plain.diff(first)) == ["expectations_added"]
    assert kinds(first.diff(plain)) == ["expectations_removed"]
    _suite(
        tmp_path,
        [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount", "min_value": 1},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
        ],
    )
    second = contract_from_dict(with_suite, str(tmp_path / "orders.yaml"))
    assert first.content_hash != second.content_hash  # the suite is part of the hash
    d = first.diff(second)
    assert kinds(d) == ["expectation_added", "expectation_changed"]
    assert any("amount.expect_column_values_to_be_between" in line for line in d.lines())


def test_contract_text_is_the_file_and_rebuilds_the_contract(tmp_path: Path) -> None:
    text = "# a comment kept\nsource: orders\nversion: 3\ncolumns:\n  id: {type: int64}\n"
    (tmp_path / "orders.yaml").write_text(text)
    loaded = load_contract(tmp_path / "orders.yaml")
    assert loaded.text == text
    again = contract_from_text(loaded.text)
    assert (again.content_hash, again.version, again.text) == (loaded.content_hash, 3, text)
    # a contract built from a dict gets its data written as YAML, which loads back the same
    built = contract_from_dict(BASE)
    assert contract_from_text(built.text).content_hash == built.content_hash


def test_a_recorded_suite_text_stands_for_the_file(tmp_path: Path) -> None:
    pytest.importorskip("great_expectations")
    suite = json.dumps(
        {
            "name": "orders",
            "expectations": [
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}
            ],
        }
    )
    (tmp_path / "orders.gx.json").write_text(suite)
    text = (
        "source: orders\nversion: 1\ncolumns:\n  id: {type: int64}\n"
        "expectations: {suite: orders.gx.json}\n"
    )
    (tmp_path / "orders.yaml").write_text(text)
    loaded = load_contract(tmp_path / "orders.yaml")
    assert loaded.expectations is not None and loaded.expectations.text == suite
    (tmp_path / "orders.gx.json").unlink()  # the recorded text needs no file
    rebuilt = contract_from_text(text, "<orders v1>", suite_text=suite)
    assert rebuilt.content_hash == loaded.content_hash


def test_contract_versions_is_a_reserved_source_name() -> None:
    with pytest.raises(ContractError, match="contract_versions"):
        contract_from_dict({**BASE, "source": "contract_versions"})
