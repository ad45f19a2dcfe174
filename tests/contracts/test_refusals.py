"""Every refusal names the file, the dotted key, the bad value and what would be valid."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tidegate.contracts import contract_from_dict
from tidegate.errors import ContractError

FILE = "schemas/orders.yaml"
DELETE = object()

BASE: dict[str, Any] = {
    "source": "orders",
    "version": 1,
    "primary_key": ["order_id"],
    "columns": {
        "order_id": {"type": "int64"},
        "status": {"type": "string"},
        "amount": {"type": "decimal(12,2)"},
        "order_date": {"type": "date"},
        "paid": {"type": "bool"},
        "total": {"type": "float64"},
    },
}


class NotAModel:
    """Not a pandera DataFrameModel."""


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


def checks(column: str, *specs: Any) -> tuple[str, list[Any]]:
    return f"columns.{column}.checks", list(specs)


# (change path, change value, expected key, expected bad value, fragment of what is valid)
CASES: list[tuple[str, Any, str, Any, str]] = [
    ("sourse", "x", "sourse", "sourse", "did you mean 'source'?"),
    ("source", DELETE, "source", None, "required"),
    ("source", "Orders-2", "source", "Orders-2", "[a-z_][a-z0-9_]*"),
    ("version", 0, "version", 0, "positive integer"),
    ("version", "3", "version", "3", "positive integer"),
    ("version", True, "version", True, "positive integer"),
    ("columns", {}, "columns", {}, "at least one column"),
    ("columns", ["order_id"], "columns", ["order_id"], "mapping of column name"),
    ("columns.Order-ID", {"type": "int"}, "columns.Order-ID", "Order-ID", "[a-z_][a-z0-9_]*"),
    ("columns._tidegate_x", {"type": "int"}, "columns._tidegate_x", "_tidegate_x", "reserved"),
    (
        "columns.order_id",
        {"type": "int64", "nulable": False},
        "columns.order_id.nulable",
        "nulable",
        "did you mean 'nullable'?",
    ),
    ("columns.status", {"nullable": True}, "columns.status.type", None, "decimal(p,s)"),
    ("columns.status", {"type": "integer"}, "columns.status.type", "integer", "int64 (int)"),
    ("columns.amount", {"type": "decimal(40,2)"}, "columns.amount.type", "decimal(40,2)", "p<=38"),
    ("columns.amount", {"type": "decimal(5,6)"}, "columns.amount.type", "decimal(5,6)", "s<=p"),
    ("columns.amount", {"type": "decimal(0,0)"}, "columns.amount.type", "decimal(0,0)", "1<=p"),
    (
        "columns.status",
        {"type": "string", "nullable": "yes"},
        "columns.status.nullable",
        "yes",
        "true or false",
    ),
    ("primary_key", ["order_no"], "primary_key[0]", "order_no", "a declared column: order_id"),
    ("primary_key", ["order_id", "order_id"], "primary_key[1]", "order_id", "at most once"),
    (
        "columns.order_id",
        {"type": "int64", "nullable": True},
        "columns.order_id.nullable",
        True,
        "primary key",
    ),
    (
        "columns.status",
        {"type": "string", "formats": ["%Y"]},
        "columns.status.formats",
        ["%Y"],
        "only on date or datetime",
    ),
    (
        "columns.order_date",
        {"type": "date", "formats": ["YYYY-MM-DD"]},
        "columns.order_date.formats[0]",
        "YYYY-MM-DD",
        "% directive",
    ),
    (
        "columns.order_date",
        {"type": "date", "formats": ["%Y-%m-%d", "%Y"]},
        "columns.order_date.formats[1]",
        "%Y",
        "determines year, month and day",
    ),
    (
        "columns.order_date",
        {"type": "date", "formats": ["%Y-%m-%Q"]},
        "columns.order_date.formats[0]",
        "%Y-%m-%Q",
        "strptime format",
    ),
    (
        "columns.order_date",
        {"type": "date", "formats": []},
        "columns.order_date.formats",
        [],
        "non-empty list",
    ),
    (
        "columns.total",
        {"type": "float64", "true_values": ["yes"]},
        "columns.total.true_values",
        ["yes"],
        "only on bool columns",
    ),
    (
        "columns.paid",
        {"type": "bool", "true_values": ["yes", "y"], "false_values": ["Y", "n"]},
        "columns.paid.false_values",
        ["y"],
        "not also listed in true_values",
    ),
    (
        "columns.paid",
        {"type": "bool", "true_values": [True]},
        "columns.paid.true_values[0]",
        True,
        "quote",
    ),
    ("columns.amount.checks", {"ge": 0}, "columns.amount.checks", {"ge": 0}, "a list of checks"),
    (
        *checks("amount", {"btween": [0, 1]}),
        "columns.amount.checks[0].btween",
        "btween",
        "did you mean 'between'?",
    ),
    (
        *checks("amount", {"ge": 0, "le": 5}),
        "columns.amount.checks[0]",
        {"ge": 0, "le": 5},
        "exactly one check kind",
    ),
    (*checks("status", {"ge": 0}), "columns.status.checks[0].ge", 0, "a check allowed on string"),
    (*checks("paid", {"ge": 0}), "columns.paid.checks[0].ge", 0, "a check allowed on bool"),
    (
        *checks("total", {"regex": "^a"}),
        "columns.total.checks[0].regex",
        "^a",
        "allowed on float64",
    ),
    (
        *checks("order_id", {"str_length": {"max": 3}}),
        "columns.order_id.checks[0].str_length",
        {"max": 3},
        "allowed on int64",
    ),
    (*checks("amount", {"ge": "abc"}), "columns.amount.checks[0].ge", "abc", "a number"),
    (*checks("amount", {"lt": True}), "columns.amount.checks[0].lt", True, "a number"),
    (
        *checks("order_date", {"gt": "yesterday"}),
        "columns.order_date.checks[0].gt",
        "yesterday",
        "a date",
    ),
    (
        *checks("amount", {"between": [5, 1]}),
        "columns.amount.checks[0].between",
        [5, 1],
        "lo <= hi",
    ),
    (*checks("amount", {"between": [1]}), "columns.amount.checks[0].between", [1], "[lo, hi]"),
    (
        *checks("order_date", {"between": ["2024-02-01", "2024-01-01"]}),
        "columns.order_date.checks[0].between",
        ["2024-02-01", "2024-01-01"],
        "lo <= hi",
    ),
    (*checks("status", {"isin": []}), "columns.status.checks[0].isin", [], "non-empty list"),
    (*checks("status", {"notin": "x"}), "columns.status.checks[0].notin", "x", "non-empty list"),
    (*checks("status", {"isin": ["a", 1]}), "columns.status.checks[0].isin[1]", 1, "a string"),
    (*checks("order_id", {"isin": [1, "2"]}), "columns.order_id.checks[0].isin[1]", "2", "integer"),
    (*checks("status", {"regex": "("}), "columns.status.checks[0].regex", "(", "Python re"),
    (
        *checks("status", {"regex": "a(?=b)"}),
        "columns.status.checks[0].regex",
        "a(?=b)",
        "polars: regex",
    ),
    (
        *checks("status", {"str_length": {"min": 5, "max": 2}}),
        "columns.status.checks[0].str_length",
        {"min": 5, "max": 2},
        "min <= max",
    ),
    (
        *checks("status", {"str_length": {"min": -1}}),
        "columns.status.checks[0].str_length.min",
        -1,
        "0 <= min",
    ),
    (
        *checks("status", {"str_length": {"mn": 3}}),
        "columns.status.checks[0].str_length.mn",
        "mn",
        "did you mean 'min'?",
    ),
    (
        *checks("status", {"str_length": {}}),
        "columns.status.checks[0].str_length",
        {},
        "{min: n, max: m}",
    ),
    (
        *checks("total", {"expr": "total >="}),
        "columns.total.checks[0].expr",
        "total >=",
        "polars SQL expression",
    ),
    (
        *checks("total", {"expr": "totl >= amount"}),
        "columns.total.checks[0].expr",
        "totl >= amount",
        "unknown column(s) ['totl']",
    ),
    (
        *checks("total", {"expr": "total + 1"}),
        "columns.total.checks[0].expr",
        "total + 1",
        "not Boolean",
    ),
    (
        *checks("total", {"expr": "nosuchfn(total) > 1"}),
        "columns.total.checks[0].expr",
        "nosuchfn(total) > 1",
        "polars SQL expression",
    ),
    (
        *checks("amount", {"ge": 0}, {"ge": 1}),
        "columns.amount.checks[1].name",
        None,
        "rule id 'amount.ge' unique",
    ),
    (
        *checks("amount", {"ge": 0, "name": "Not OK"}),
        "columns.amount.checks[0].name",
        "Not OK",
        "lower case letters",
    ),
    ("normalize.renam", {}, "normalize.renam", "renam", "did you mean 'rename'?"),
    (
        "normalize.rename",
        {"OrderID": "order_no"},
        "normalize.rename.OrderID",
        "order_no",
        "a declared column",
    ),
    (
        "normalize.rename",
        {"status": "order_id"},
        "normalize.rename.status",
        "status",
        "not already meaning column 'status'",
    ),
    (
        "columns.status",
        {"type": "string", "aliases": ["order_id"]},
        "columns.status.aliases[0]",
        "order_id",
        "not already meaning column 'order_id'",
    ),
    ("normalize.null_values", ["", None], "normalize.null_values[1]", None, "a string"),
    ("normalize.trim", "yes", "normalize.trim", "yes", "true or false"),
    (
        "columns.status",
        {"type": "string", "normalize": {"lower": True, "upper": True}},
        "columns.status.normalize.upper",
        True,
        "at most one of lower and upper",
    ),
    (
        "columns.status",
        {"type": "string", "normalize": {"lowercase": True}},
        "columns.status.normalize.lowercase",
        "lowercase",
        "did you mean 'lower'?",
    ),
    (
        "columns.status",
        {"type": "string", "normalize": {"map": {"a": 1}}},
        "columns.status.normalize.map.a",
        1,
        "a string",
    ),
    (
        "columns.amount",
        {"type": "decimal(12,2)", "normalize": {"strip": "$"}},
        "columns.amount.normalize.strip",
        "$",
        "a list of strings",
    ),
    ("policy.on_row_failure", "drop", "policy.on_row_failure", "drop", "quarantine, fail_batch"),
    (
        "policy.on_existing_key",
        "updte",
        "policy.on_existing_key",
        "updte",
        "did you mean 'update'?",
    ),
    ("policy.max_quarantine_ratio", 1.5, "policy.max_quarantine_ratio", 1.5, "between 0 and 1"),
    ("policy.max_quarantine_ratio", "x", "policy.max_quarantine_ratio", "x", "a number"),
    ("policy.retries", 3, "policy.retries", "retries", "on_row_failure, on_existing_key"),
    ("model", "nocolon", "model", "nocolon", "'package.module:ClassName'"),
    (
        "model",
        "no_such_module_xyz:Model",
        "model",
        "no_such_module_xyz:Model",
        "No module named 'no_such_module_xyz'",
    ),
    ("model", f"{__name__}:Missing", "model", f"{__name__}:Missing", "has no 'Missing'"),
    ("model", f"{__name__}:NotAModel", "model", f"{__name__}:NotAModel", "DataFrameModel"),
    ("description", 5, "description", 5, "a string"),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "bad", "valid"), CASES, ids=[f"{c[2]}={c[3]!r}" for c in CASES]
)
def test_refusal_names_file_key_value_and_valid(
    path: str, value: Any, key: str, bad: Any, valid: str
) -> None:
    with pytest.raises(ContractError) as info:
        contract_from_dict(with_change(path, value), FILE)
    err = info.value
    message = str(err)
    assert (err.file, err.key, err.value) == (FILE, key, bad), message
    assert message.startswith(f"{FILE}: {key}: {bad!r} is not valid; expected "), message
    assert valid in message, message
    assert "tidegate schema check" in message


def test_base_is_valid() -> None:
    contract = contract_from_dict(copy.deepcopy(BASE), FILE)
    assert contract.column("order_id").nullable is False  # implicit for the primary key


def test_top_level_must_be_a_mapping() -> None:
    # a file that is not a contract is described, never quoted (it may be /etc/passwd)
    with pytest.raises(ContractError, match=r"<top>: <a list of length 1; its contents are not"):
        contract_from_dict(["a"], FILE)  # type: ignore[arg-type]


def test_unknown_key_without_close_match_lists_valid_keys() -> None:
    with pytest.raises(ContractError) as info:
        contract_from_dict(with_change("zzzzzz", 1), FILE)
    assert "did you mean" not in str(info.value)
    for key in ("source", "version", "columns", "policy", "normalize", "primary_key", "model"):
        assert key in info.value.valid


def test_a_source_named_like_a_store_table_is_refused() -> None:
    import pytest as _pytest

    from tidegate.contracts import contract_from_dict
    from tidegate.errors import ContractError

    with _pytest.raises(ContractError) as info:
        contract_from_dict(
            {"source": "quarantine", "version": 1, "columns": {"a": {"type": "int64"}}}, "q.yaml"
        )
    message = str(info.value)
    assert "q.yaml" in message and "'quarantine'" in message and "audit" in message
    assert "pii_keys" in message  # the PII key table is one of them
    assert "audit_keys" in message  # and the audit signing keys
