"""Loading a good contract, the content hash, and YAML-level refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from tidegate.contracts import (
    CheckSpec,
    ColumnNormalize,
    ContractNormalize,
    Policy,
    content_hash,
    contract_from_dict,
    load_contract,
)
from tidegate.errors import ContractError

HERE = Path(__file__).parent
FULL = HERE / "orders_full.yaml"


def test_full_contract_loads_to_the_model() -> None:
    c = load_contract(FULL)
    assert (c.source, c.version, c.target_table, c.path) == ("orders", 3, "orders", str(FULL))
    assert c.description == "Orders from the shop"
    assert c.primary_key == ("order_id",)
    assert c.column_names == [
        "order_id",
        "status",
        "amount",
        "order_date",
        "paid",
        "email",
        "total",
    ]
    assert c.normalize == ContractNormalize(
        rename={"OrderID": "order_id", "order id": "order_id"},
        null_values=("", "N/A", "null", "-"),
        trim=True,
    )
    assert c.policy == Policy("quarantine", "update", 0.2)
    assert c.model is None

    order_id = c.column("order_id")
    assert (order_id.type, order_id.nullable, order_id.unique) == ("int64", False, True)

    status = c.column("status")
    assert status.aliases == ("state",)
    assert status.normalize == ColumnNormalize(lower=True, map={"canceled": "cancelled"})
    assert status.checks == (
        CheckSpec("status", "isin", ["pending", "shipped", "cancelled", "returned"]),
    )
    assert status.checks[0].rule_id == "status.isin"

    amount = c.column("amount")
    assert amount.type == "decimal(12,2)"
    assert amount.decimal_precision_scale == (12, 2)
    assert amount.base_type == "decimal"
    assert amount.normalize.strip == ("$", ",")
    assert [ch.rule_id for ch in amount.checks] == ["amount.ge", "amount.le"]
    assert [ch.args for ch in amount.checks] == [0, 100000]

    assert c.column("order_date").formats == ("%Y-%m-%d", "%d/%m/%Y", "%b %d %Y")
    paid = c.column("paid")
    # YAML 1.2 booleans: unquoted yes/no stay strings
    assert paid.true_values == ("yes", "y", "1", "true")
    assert paid.false_values == ("no", "n", "0", "false")

    email = c.column("email")
    assert email.pii is True
    assert email.checks[0] == CheckSpec("email", "regex", r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    assert email.checks[1].args == {"min": 3, "max": 254}

    (expr,) = c.column("total").checks
    assert expr.rule_id == "total.expr.total_covers_amount"
    assert expr.args == "total >= amount"


def test_type_aliases_shorthand_and_defaults() -> None:
    c = contract_from_dict(
        {
            "source": "s",
            "version": 1,
            "columns": {
                "a": "int",
                "b": {"type": "float"},
                "c": {"type": "str"},
                "d": {"type": "Decimal( 5 , 0 )"},
                "e": "datetime",
            },
        }
    )
    assert [col.type for col in c.columns] == [
        "int64",
        "float64",
        "string",
        "decimal(5,0)",
        "datetime",
    ]
    assert c.path == "<memory>"
    assert c.policy == Policy()
    assert c.normalize == ContractNormalize()
    assert all(col.nullable for col in c.columns)


def test_date_bounds_and_named_checks() -> None:
    c = contract_from_dict(
        {
            "source": "s",
            "version": 1,
            "columns": {
                "d": {
                    "type": "date",
                    "checks": [
                        {"ge": dt.date(2020, 1, 1)},
                        {"le": "2030-12-31", "name": "not_far_future"},
                    ],
                },
            },
        }
    )
    assert [ch.rule_id for ch in c.column("d").checks] == ["d.ge", "d.le.not_far_future"]


def test_content_hash_ignores_key_order_and_formatting(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text("source: s\nversion: 1\ncolumns:\n  x: {type: int64, unique: true}\n")
    b.write_text(
        "# a comment\ncolumns:\n  x:\n    unique: true\n    type: int64\n"
        "\nversion: 1\nsource: 's'\n"
    )
    assert load_contract(a).content_hash == load_contract(b).content_hash
    b.write_text("source: s\nversion: 1\ncolumns:\n  x: {type: int64, unique: false}\n")
    assert load_contract(a).content_hash != load_contract(b).content_hash


def test_content_hash_is_sha256_of_canonical_json() -> None:
    import hashlib
    import json

    data = {"source": "s", "version": 1, "columns": {"x": "int64"}}
    expected = hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert contract_from_dict(data).content_hash == expected == content_hash(data)


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("source: s\nversion: 1\ncolumns:\n  x: {type: int64\n")
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert info.value.file == str(path)
    assert info.value.key.startswith("line 5, column ")
    assert "well-formed YAML" in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("source: s\nversion: 1\ncolumns:\n  x: int64\n  x: string\n")
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert info.value.key == "line 5, column 3"
    assert "found duplicate key 'x'" in str(info.value)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="an existing contract file"):
        load_contract(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ContractError, match=r"empty.yaml: <top>: None"):
        load_contract(empty)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("source: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ContractError, match="readable UTF-8"):
        load_contract(path)


def test_safe_load_booleans_are_refused_with_a_quote_hint() -> None:
    data = yaml.safe_load(
        "source: s\nversion: 1\ncolumns:\n  p: {type: bool, true_values: [yes]}\n"
    )
    with pytest.raises(ContractError, match=r"true_values\[0\]: True .*quote"):
        contract_from_dict(data)
