"""A contract's checks as a Great Expectations (GX 1.x) suite document.

The document is the JSON GX 1.x writes (``{"name", "expectations": [{"type", "kwargs",
"meta"}], "meta"}``); building it never imports GX. Each expectation's ``meta`` holds
the tidegate rule id it came from (``{"tidegate_rule": "amount.ge"}``), and the suite's
``meta.tidegate`` the source and primary key, so :mod:`._gx_import` can restore names.

What GX cannot express is returned, not dropped: ``expr`` checks, a ``model:``, and the
type of a string column (GX 1.24 matches no type name against pandas 3's ``str`` dtype,
which ``polars.DataFrame.to_pandas()`` gives).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from tidegate.contracts._model import CheckSpec, ColumnSpec, Contract
from tidegate.rules import PRIMARY_KEY_RULE

# The dtype names GX sees for each column type in ``typed.to_pandas()`` (pandas 3, polars
# 1.x/2.x): an int64 column with a null becomes float64; decimal and a bool column with a
# null are object columns (GX then checks each value's Python type: Decimal, bool).
PANDAS_TYPE_NAMES: dict[str, list[str]] = {
    "int64": ["int64", "float64"],
    "float64": ["float64"],
    "decimal": ["Decimal"],
    "bool": ["bool"],
    "date": ["datetime64[ms]"],
    "datetime": ["datetime64[us]"],
}
_BOUNDS = {"ge": ("min_value", False), "gt": ("min_value", True)}
_BOUNDS |= {"le": ("max_value", False), "lt": ("max_value", True)}


@dataclass(frozen=True)
class Untranslated:
    """One part of a contract (or a suite) with no counterpart on the other side."""

    what: str  # a rule id, or an expectation's type
    reason: str


@dataclass(frozen=True)
class SuiteExport:
    document: dict[str, Any]
    untranslated: tuple[Untranslated, ...]


def json_value(value: Any) -> Any:
    """A YAML value as JSON: dates and datetimes as ISO text, decimals as numbers."""
    if isinstance(value, dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def _expectation(type_: str, rule: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": json_value(kwargs), "meta": {"tidegate_rule": rule}}


def check_expectation(spec: CheckSpec) -> dict[str, Any] | None:
    """The expectation for one declared check, or None for an ``expr`` check."""
    col, kind, args, rule = spec.column, spec.kind, spec.args, spec.rule_id
    if kind in _BOUNDS:
        key, strict = _BOUNDS[kind]
        strict_key = "strict_min" if key == "min_value" else "strict_max"
        kw = {key: args, strict_key: strict}
        return _expectation("expect_column_values_to_be_between", rule, column=col, **kw)
    if kind == "between":
        return _expectation(
            "expect_column_values_to_be_between",
            rule,
            column=col,
            min_value=args[0],
            max_value=args[1],
            strict_min=False,
            strict_max=False,
        )
    if kind in ("isin", "notin"):
        type_ = "to_be_in_set" if kind == "isin" else "to_not_be_in_set"
        return _expectation(f"expect_column_values_{type_}", rule, column=col, value_set=args)
    if kind == "regex":
        return _expectation("expect_column_values_to_match_regex", rule, column=col, regex=args)
    if kind == "str_length":
        bounds = {f"{k}_value": args[k] for k in ("min", "max") if k in args}
        return _expectation("expect_column_value_lengths_to_be_between", rule, column=col, **bounds)
    return None


def _midnight(value: Any) -> Any:
    """A date bound as datetime text: GX reads ``"2024-01-01"`` as a date, which pandas
    will not compare with the column's Timestamps (``"2024-01-01T00:00:00"`` it will)."""
    if isinstance(value, list):
        return [_midnight(v) for v in value]
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time()).isoformat()
        except ValueError:
            return value
    return value


def _column_expectations(
    c: ColumnSpec, contract: Contract, skipped: list[Untranslated]
) -> list[dict[str, Any]]:
    out = [_expectation("expect_column_to_exist", f"{c.name}.missing", column=c.name)]
    names = PANDAS_TYPE_NAMES.get(c.base_type)
    if names is None:
        skipped.append(
            Untranslated(
                f"{c.name}.type",
                f"type {c.type}: GX 1.24 matches no type name against pandas 3's str dtype",
            )
        )
    else:
        exp = _expectation(
            "expect_column_values_to_be_in_type_list",
            f"{c.name}.type",
            column=c.name,
            type_list=names,
        )
        exp["meta"]["tidegate_type"] = c.type
        out.append(exp)
    single_key = contract.primary_key == (c.name,)
    if not c.nullable or c.name in contract.primary_key:
        out.append(
            _expectation("expect_column_values_to_not_be_null", f"{c.name}.not_null", column=c.name)
        )
    if c.unique or single_key:
        out.append(
            _expectation("expect_column_values_to_be_unique", f"{c.name}.unique", column=c.name)
        )
    for spec in c.checks:
        check = check_expectation(spec)
        if check is not None and c.base_type == "date":
            check["kwargs"] = {k: _midnight(v) for k, v in check["kwargs"].items()}
        if check is None:
            skipped.append(
                Untranslated(spec.rule_id, f"an expr check ({spec.args}) has no GX type")
            )
        else:
            out.append(check)
    return out


def export_suite(contract: Contract, name: str | None = None) -> SuiteExport:
    """The contract's checks as a GX 1.x suite document, and what was not translated."""
    skipped: list[Untranslated] = []
    expectations: list[dict[str, Any]] = []
    for c in contract.columns:
        expectations += _column_expectations(c, contract, skipped)
    if len(contract.primary_key) > 1:
        expectations.append(
            _expectation(
                "expect_compound_columns_to_be_unique",
                PRIMARY_KEY_RULE,
                column_list=list(contract.primary_key),
            )
        )
    if contract.model:
        skipped.append(
            Untranslated(f"model: {contract.model}", "a pandera DataFrameModel has no GX form")
        )
    meta = {
        "tidegate": {
            "source": contract.source,
            "version": contract.version,
            "primary_key": list(contract.primary_key),
        }
    }
    document: dict[str, Any] = {
        "name": name or contract.source,
        "expectations": expectations,
        "meta": meta,
    }
    if contract.description:
        document["notes"] = contract.description
    return SuiteExport(document, tuple(skipped))
