"""A starter contract (YAML text) from a GX 1.x suite document: the inverse of
:mod:`._gx_export`.

Every column the suite references becomes a contract column (its type from
``expect_column_values_to_be_in_type_list``/``_of_type`` when it names one, else
string); the expectations tidegate has a check for become checks, ``nullable: false``,
``unique: true`` or the primary key. Every other expectation is listed with the reason,
and when any remain the contract names the suite under ``expectations: {suite: ...}``,
so nothing of the suite is lost. Never imports GX.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tidegate.contracts._gx_export import PANDAS_TYPE_NAMES, Untranslated
from tidegate.contracts._infer_yaml import _dump

_TYPE_BY_NAME = {
    "int64": "int64",
    "int": "int64",
    "float64": "float64",
    "float": "float64",
    "decimal": "decimal(18,6)",
    "bool": "bool",
    "boolean": "bool",
    "str": "string",
    "string": "string",
    "datetime64[ms]": "date",
    "date": "date",
    "datetime64[us]": "datetime",
    "datetime64[ns]": "datetime",
    "datetime": "datetime",
    "timestamp": "datetime",
}
_CHECK_TYPES = {
    "expect_column_values_to_be_in_set": "isin",
    "expect_column_values_to_not_be_in_set": "notin",
    "expect_column_values_to_match_regex": "regex",
}
_HANDLED = (
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_between",
    "expect_column_value_lengths_to_be_between",
    "expect_compound_columns_to_be_unique",
    *_CHECK_TYPES,
)
_IGNORED_KWARGS = ("column", "result_format", "batch_id", "catch_exceptions")


@dataclass
class _Column:
    type: str = "string"
    nullable: bool = True
    unique: bool = False
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class StarterContract:
    yaml: str
    source: str
    untranslated: tuple[Untranslated, ...]


def _type_of(kwargs: Mapping[str, Any]) -> str | None:
    names = kwargs.get("type_list") or [kwargs.get("type_")]
    for name in names:
        if isinstance(name, str) and name.lower() in _TYPE_BY_NAME:
            return _TYPE_BY_NAME[name.lower()]
        if name == PANDAS_TYPE_NAMES["decimal"][0]:
            return _TYPE_BY_NAME["decimal"]
    return None


def _named(check: dict[str, Any], kind: str, rule: object, column: str) -> dict[str, Any]:
    """``check`` with the ``name`` from a tidegate rule id ``column.kind.name``."""
    prefix = f"{column}.{kind}."
    if isinstance(rule, str) and rule.startswith(prefix):
        check["name"] = rule[len(prefix) :]
    return check


def _between(kw: Mapping[str, Any], rule: object, column: str) -> list[dict[str, Any]] | None:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    s_lo, s_hi = bool(kw.get("strict_min")), bool(kw.get("strict_max"))
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None and not (s_lo or s_hi):
        return [_named({"between": [lo, hi]}, "between", rule, column)]
    out = []
    if lo is not None:
        kind = "gt" if s_lo else "ge"
        out.append(_named({kind: lo}, kind, rule, column))
    if hi is not None:
        kind = "lt" if s_hi else "le"
        out.append(_named({kind: hi}, kind, rule, column))
    return out


def _extra_kwargs(kw: Mapping[str, Any], known: tuple[str, ...]) -> list[str]:
    return [k for k in kw if k not in (*_IGNORED_KWARGS, *known)]


def _translate(
    item: Mapping[str, Any], columns: dict[str, _Column], keys: list[list[str]]
) -> str | None:
    """Apply one expectation to ``columns``; the reason it cannot be, or None."""
    type_, kw = item["type"], item.get("kwargs") or {}
    rule = (item.get("meta") or {}).get("tidegate_rule")
    col = kw.get("column")
    if type_ not in _HANDLED:
        return "no tidegate check of this kind; GX evaluates it (expectations: suite)"
    known = {
        "expect_column_values_to_be_between": (
            "min_value",
            "max_value",
            "strict_min",
            "strict_max",
        ),
        "expect_column_value_lengths_to_be_between": ("min_value", "max_value"),
        "expect_compound_columns_to_be_unique": ("column_list",),
        "expect_column_values_to_be_in_set": ("value_set",),
        "expect_column_values_to_not_be_in_set": ("value_set",),
        "expect_column_values_to_match_regex": ("regex",),
    }.get(type_, ())
    extra = _extra_kwargs(kw, known)
    if extra:
        return f"argument {extra[0]!r} has no tidegate counterpart"
    if type_ == "expect_compound_columns_to_be_unique":
        keys.append([str(c) for c in kw.get("column_list", ())])
        return None
    spec = columns[str(col)]
    if type_ == "expect_column_values_to_not_be_null":
        spec.nullable = False
    elif type_ == "expect_column_values_to_be_unique":
        spec.unique = True
    elif type_ in _CHECK_TYPES:
        kind = _CHECK_TYPES[type_]
        arg = kw.get("value_set") if kind != "regex" else kw.get("regex")
        if not arg:
            return "an empty value_set or regex"
        spec.checks.append(_named({kind: arg}, kind, rule, str(col)))
    elif type_ == "expect_column_values_to_be_between":
        checks = _between(kw, rule, str(col))
        if checks is None:
            return "neither min_value nor max_value"
        spec.checks += checks
    elif type_ == "expect_column_value_lengths_to_be_between":
        bounds = {b: kw[f"{b}_value"] for b in ("min", "max") if kw.get(f"{b}_value") is not None}
        if not bounds:
            return "neither min_value nor max_value"
        spec.checks.append(_named({"str_length": bounds}, "str_length", rule, str(col)))
    return None


def _dated(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Date bounds exported as midnight datetimes (``2024-01-01T00:00:00``) as dates."""

    def date(v: Any) -> Any:
        if isinstance(v, list):
            return [date(x) for x in v]
        return v[:10] if isinstance(v, str) and v.endswith("T00:00:00") else v

    return [{k: date(v) for k, v in check.items()} for check in checks]


def _referenced(expectations: list[Mapping[str, Any]]) -> dict[str, _Column]:
    columns: dict[str, _Column] = {}
    for item in expectations:
        kw = item.get("kwargs") or {}
        names = [kw.get("column"), kw.get("column_A"), kw.get("column_B")]
        names += list(kw.get("column_list") or ())
        for name in names:
            if isinstance(name, str) and name not in columns:
                columns[name] = _Column()
    return columns


def import_suite(
    document: Mapping[str, Any], *, suite_path: str, source: str | None = None
) -> StarterContract:
    """A starter contract from a suite document; ``suite_path`` is how the contract
    names the suite (relative to the contract file) when some of it is untranslated."""
    expectations = [e for e in document.get("expectations") or [] if isinstance(e, Mapping)]
    tidegate_meta = (document.get("meta") or {}).get("tidegate") or {}
    name = source or str(tidegate_meta.get("source") or document.get("name") or "suite")
    columns = _referenced(expectations)
    for item in expectations:  # types first: they say what every later check is on
        if item.get("type") in (
            "expect_column_values_to_be_in_type_list",
            "expect_column_values_to_be_of_type",
        ):
            declared = (item.get("meta") or {}).get("tidegate_type")
            found = declared if isinstance(declared, str) else _type_of(item.get("kwargs") or {})
            col = (item.get("kwargs") or {}).get("column")
            if found and isinstance(col, str):
                columns[col].type = found
    keys: list[list[str]] = []
    untranslated: list[Untranslated] = []
    for item in expectations:
        type_ = str(item.get("type"))
        if type_ in (
            "expect_column_values_to_be_in_type_list",
            "expect_column_values_to_be_of_type",
        ):
            if _type_of(item.get("kwargs") or {}):
                continue
            reason: str | None = "no type name tidegate knows; the column is a string"
        else:
            reason = _translate(item, columns, keys)
        if reason:
            untranslated.append(Untranslated(type_, reason))
    primary_key = list(tidegate_meta.get("primary_key") or [])
    for key in keys:
        if key == primary_key or (not primary_key and all(not columns[c].nullable for c in key)):
            primary_key = key
        else:
            untranslated.append(
                Untranslated(
                    "expect_compound_columns_to_be_unique",
                    f"on {key}: tidegate has compound uniqueness only as the primary key",
                )
            )
    return StarterContract(
        _render(name, document, columns, primary_key, untranslated, suite_path),
        name,
        tuple(untranslated),
    )


def _render(
    source: str,
    document: Mapping[str, Any],
    columns: dict[str, _Column],
    primary_key: list[str],
    untranslated: list[Untranslated],
    suite_path: str,
) -> str:
    suite_name = document.get("name") or suite_path
    lines = [
        f"# Starter contract for {source!r}, from the GX suite {suite_name!r} ({suite_path}).",
        "# Review every column (types are string unless the suite names one) before use.",
    ]
    head = {"source": source, "version": 1}
    notes = document.get("notes")
    head["description"] = (
        str(notes)
        if isinstance(notes, str) and notes
        else (f"From the GX suite {suite_name}; review before use.")
    )
    text = "\n".join(lines) + "\n" + _dump(head, flow=False)
    if primary_key:
        text += _dump({"primary_key": primary_key})
    text += "columns:\n"
    for col, spec in columns.items():
        data: dict[str, Any] = {"type": spec.type}
        if not spec.nullable:
            data["nullable"] = False
        if spec.unique:
            data["unique"] = True
        if spec.checks:
            data["checks"] = _dated(spec.checks) if spec.type == "date" else spec.checks
        text += _dump({col: data}, indent=2)
    if untranslated:
        text += "# Not translated into checks; GX evaluates them from the suite:\n"
        text += "".join(f"#   {u.what}: {u.reason}\n" for u in untranslated)
        text += _dump({"expectations": {"suite": suite_path}}, flow=False)
    return text
