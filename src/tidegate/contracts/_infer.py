"""Infer a starter contract (YAML text) from a frame of raw string columns.

The guess is a starting point for a person to review, never a contract to trust:
types come from the values seen, ``nullable`` from whether a null token was seen,
``unique`` from whether every value seen was distinct.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import polars as pl
import yaml

from tidegate.contracts._fields import IDENTIFIER_RE, IDENTIFIER_TEXT
from tidegate.contracts._model import DEFAULT_FALSE_VALUES, DEFAULT_TRUE_VALUES
from tidegate.errors import ContractError

NULL_TOKENS = ("", "na", "n/a", "null", "none", "nan", "nil", "-")  # compared lower-cased
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%b %d %Y")
DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
BOOL_TOKENS = (*DEFAULT_TRUE_VALUES, *DEFAULT_FALSE_VALUES)
INT_RE = r"^[+-]?(?:0|[1-9][0-9]*)$"
# no leading zeros ("00123" is a code, not a number)
FLOAT_RE = r"^[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def snake_case(header: str) -> str:
    """``OrderID`` -> ``order_id``, ``order date`` -> ``order_date``, ``2019`` -> ``col_2019``."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if text and text[0].isdigit():
        text = f"col_{text}"
    return text


def _column_names(headers: list[str]) -> dict[str, str]:
    """header -> unique snake_case column name; headers already in snake case keep their name."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    ordered = [h for h in headers if snake_case(h) == h] + [
        h for h in headers if snake_case(h) != h
    ]
    for header in ordered:
        base = snake_case(header) or f"column_{headers.index(header) + 1}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        names[header] = name
        taken.add(name)
    return {h: names[h] for h in headers}


def _stats(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """One pass of polars expressions: per column counts for every type test."""
    exprs: list[pl.Expr] = []
    for i, header in enumerate(frame.columns):
        raw = pl.col(header).cast(pl.String).str.strip_chars()
        is_null = raw.is_null() | raw.str.to_lowercase().is_in(NULL_TOKENS)
        value = pl.when(is_null.not_()).then(raw)
        p = f"c{i}:"
        exprs += [
            value.count().alias(p + "values"),
            is_null.sum().alias(p + "nulls"),
            value.n_unique().alias(p + "distinct"),  # counts null once when present
            (value.str.contains(INT_RE) & value.str.to_integer(strict=False).is_not_null())
            .sum()
            .alias(p + "int"),
            value.str.contains(FLOAT_RE).sum().alias(p + "float"),
            value.str.to_lowercase().is_in(BOOL_TOKENS).sum().alias(p + "bool"),
            raw.filter(is_null & raw.is_not_null()).unique().sort().implode().alias(p + "tokens"),
        ]
        for kind, dtype, formats in (
            ("date", pl.Date(), DATE_FORMATS),
            ("datetime", pl.Datetime("us"), DATETIME_FORMATS),
        ):
            parsed = [value.str.strptime(dtype, f, strict=False).is_not_null() for f in formats]
            exprs += [ok.sum().alias(f"{p}{kind}:{j}") for j, ok in enumerate(parsed)]
            exprs.append(pl.any_horizontal(parsed).sum().alias(f"{p}{kind}:any"))
    row = frame.select(exprs).row(0, named=True) if frame.width else {}
    out: dict[str, dict[str, Any]] = {}
    for i, header in enumerate(frame.columns):
        p = f"c{i}:"
        out[header] = {k[len(p) :]: v for k, v in row.items() if k.startswith(p)}
    return out


def _guess_type(s: dict[str, Any]) -> tuple[str, list[str]]:
    n = s["values"]
    if n == 0:
        return "string", []
    if s["int"] == n:
        return "int64", []
    if s["float"] == n:
        return "float64", []
    if s["bool"] == n:
        return "bool", []
    for kind, formats in (("date", DATE_FORMATS), ("datetime", DATETIME_FORMATS)):
        if s[f"{kind}:any"] == n:
            return kind, [f for j, f in enumerate(formats) if s[f"{kind}:{j}"] > 0]
    return "string", []


def infer_contract(frame: pl.DataFrame, source: str) -> str:
    """Starter contract YAML for ``source`` from a frame of raw (string) columns."""
    if not IDENTIFIER_RE.match(source):
        raise ContractError("<infer>", "source", source, IDENTIFIER_TEXT)
    stats = _stats(frame)
    names = _column_names(frame.columns)
    columns: dict[str, dict[str, Any]] = {}
    tokens: set[str] = {""}
    primary_key: list[str] = []
    for header in frame.columns:
        s, name = stats[header], names[header]
        type_name, formats = _guess_type(s)
        tokens.update(s["tokens"])
        spec: dict[str, Any] = {"type": type_name, "nullable": s["nulls"] > 0}
        unique = s["values"] > 0 and s["distinct"] == s["values"] + (1 if s["nulls"] else 0)
        if unique and type_name != "bool":
            spec["unique"] = True
            if (
                not primary_key
                and s["nulls"] == 0
                and name.endswith("id")
                and type_name in ("int64", "string")
            ):
                primary_key.append(name)
        if formats:
            spec["formats"] = formats
        columns[name] = spec
    doc: dict[str, Any] = {
        "source": source,
        "version": 1,
        "description": f"Inferred from {frame.height} rows; review every guess before use.",
    }
    if primary_key:
        doc["primary_key"] = primary_key
    rename = {h: n for h, n in names.items() if h != n}
    doc["normalize"] = {
        **({"rename": rename} if rename else {}),
        "null_values": sorted(tokens),
        "trim": True,
    }
    doc["columns"] = columns
    doc["policy"] = {
        "on_row_failure": "quarantine",
        "on_existing_key": "update",
        "max_quarantine_ratio": 1.0,
    }
    header = (
        f"# Starter contract for {source!r}, inferred by tidegate from {frame.height} rows.\n"
        "# Review types, nullability, uniqueness and the primary key; add checks.\n"
    )
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return header + body
