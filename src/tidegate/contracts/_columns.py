"""Read the ``columns:`` section of a contract: types, options, normalization and checks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tidegate.contracts._fields import IDENTIFIER_RE, IDENTIFIER_TEXT, Reader
from tidegate.contracts._model import (
    CHECK_KINDS,
    DEFAULT_FALSE_VALUES,
    DEFAULT_TRUE_VALUES,
    CheckSpec,
    ColumnNormalize,
    ColumnSpec,
)
from tidegate.contracts._store_names import column_name_refusal
from tidegate.contracts._types import (
    NUMERIC_TYPES,
    TEMPORAL_TYPES,
    VALID_TYPES_TEXT,
    base_type,
    canonical_type,
)

COLUMN_KEYS = (
    "type",
    "nullable",
    "unique",
    "pii",
    "description",
    "aliases",
    "formats",
    "true_values",
    "false_values",
    "normalize",
    "checks",
)
COLUMN_NORMALIZE_KEYS = ("trim", "lower", "upper", "map", "strip", "null_values")
COMPARISON_KINDS = ("ge", "gt", "le", "lt", "between")
KINDS_BY_BASE_TYPE = {
    "int64": (*COMPARISON_KINDS, "isin", "notin", "expr"),
    "float64": (*COMPARISON_KINDS, "isin", "notin", "expr"),
    "decimal": (*COMPARISON_KINDS, "isin", "notin", "expr"),
    "date": (*COMPARISON_KINDS, "isin", "notin", "expr"),
    "datetime": (*COMPARISON_KINDS, "isin", "notin", "expr"),
    "string": ("isin", "notin", "regex", "str_length", "expr"),
    "bool": ("isin", "notin", "expr"),
}
CHECK_NAME_RE = re.compile(r"^[a-z0-9_]+$")
RESERVED_PREFIX = "_tidegate"
_SAMPLE_MOMENT = dt.datetime(2001, 2, 3, 4, 5, 6)


def read_column(r: Reader, name: object, raw: object) -> ColumnSpec:
    key = f"columns.{name}"
    if not isinstance(name, str) or not IDENTIFIER_RE.match(name):
        raise r.refuse(key, name, f"a column name that is {IDENTIFIER_TEXT}")
    if name.startswith(RESERVED_PREFIX):
        raise r.refuse(key, name, f"a column name not starting with {RESERVED_PREFIX!r} (reserved)")
    unstorable = column_name_refusal(name)
    if unstorable:
        raise r.refuse(key, name, unstorable)
    if isinstance(raw, str):  # shorthand: `amount: decimal(12,2)`
        raw = {"type": raw}
    data = r.mapping(raw, key, "a mapping with at least `type:` (or just the type name)")
    r.known_keys(data, COLUMN_KEYS, key, keep_going=True)
    declared = r.required(data, "type", key, VALID_TYPES_TEXT)
    type_name = canonical_type(declared) if isinstance(declared, str) else None
    if type_name is None:
        raise r.refuse(f"{key}.type", declared, VALID_TYPES_TEXT)
    base = base_type(type_name)
    # each option is read on its own: a refusal is recorded and the others still read
    formats = r.attempt(_formats, r, data, key, base, default=())
    true_values, false_values = r.attempt(
        _bool_tokens, r, data, key, base, default=(DEFAULT_TRUE_VALUES, DEFAULT_FALSE_VALUES)
    )
    checks = _read_checks(r, name, data.get("checks", []), f"{key}.checks", type_name)
    return ColumnSpec(
        name=name,
        type=type_name,
        nullable=r.attempt(r.boolean, data.get("nullable", True), f"{key}.nullable", default=True),
        unique=r.attempt(r.boolean, data.get("unique", False), f"{key}.unique", default=False),
        pii=r.attempt(r.boolean, data.get("pii", False), f"{key}.pii", default=False),
        description=r.attempt(
            r.text, data.get("description", ""), f"{key}.description", default=""
        ),
        aliases=r.attempt(_aliases, r, data.get("aliases", []), f"{key}.aliases", default=()),
        formats=formats,
        true_values=true_values,
        false_values=false_values,
        normalize=r.attempt(
            _read_column_normalize,
            r,
            data.get("normalize", {}),
            f"{key}.normalize",
            default=ColumnNormalize(),
        ),
        checks=checks,
    )


def _aliases(r: Reader, value: object, key: str) -> tuple[str, ...]:
    return r.str_list(value, key, non_empty_items=True)


def _formats(r: Reader, data: Mapping[str, Any], key: str, base: str) -> tuple[str, ...]:
    if "formats" not in data:
        return ()
    if base not in TEMPORAL_TYPES:
        raise r.refuse(f"{key}.formats", data["formats"], "formats only on date or datetime")
    formats = r.str_list(data["formats"], f"{key}.formats")
    if not formats:
        raise r.refuse(f"{key}.formats", data["formats"], "a non-empty list of strptime formats")
    for i, fmt in enumerate(formats):
        _check_format(r, f"{key}.formats[{i}]", fmt, base)
    return formats


def _bool_tokens(
    r: Reader, data: Mapping[str, Any], key: str, base: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    true_values: tuple[str, ...] = DEFAULT_TRUE_VALUES
    false_values: tuple[str, ...] = DEFAULT_FALSE_VALUES
    for opt in ("true_values", "false_values"):
        if opt in data and base != "bool":
            raise r.refuse(f"{key}.{opt}", data[opt], f"{opt} only on bool columns")
    if "true_values" in data:
        true_values = _token_list(r, data["true_values"], f"{key}.true_values")
    if "false_values" in data:
        false_values = _token_list(r, data["false_values"], f"{key}.false_values")
    both = sorted(set(true_values) & set(false_values))
    if both:
        raise r.refuse(f"{key}.false_values", both, "tokens not also listed in true_values")
    return true_values, false_values


def _token_list(r: Reader, value: object, key: str) -> tuple[str, ...]:
    tokens = r.str_list(value, key, non_empty_items=True)
    if not tokens:
        raise r.refuse(key, value, "a non-empty list of strings")
    return tuple(t.strip().lower() for t in tokens)


def _check_format(r: Reader, key: str, fmt: str, base: str) -> None:
    valid = (
        "a strptime format with at least one % directive that determines year, month and day, "
        "e.g. '%Y-%m-%d', '%d/%m/%Y', '%b %d %Y'"
    )
    if "%" not in fmt:
        raise r.refuse(key, fmt, valid)
    try:
        text = _SAMPLE_MOMENT.strftime(fmt)
        parsed = dt.datetime.strptime(text, fmt)
    except ValueError as exc:
        raise r.refuse(key, fmt, f"{valid} ({exc})") from None
    if parsed.date() != _SAMPLE_MOMENT.date():
        raise r.refuse(key, fmt, valid)
    import polars as pl

    target = pl.Date() if base == "date" else pl.Datetime("us")
    try:
        pl.Series([text]).str.strptime(target, fmt, strict=True)
    except Exception as exc:
        raise r.refuse(key, fmt, f"{valid}; polars refused it: {exc}") from None


def _read_column_normalize(r: Reader, raw: object, key: str) -> ColumnNormalize:
    data = r.mapping(raw, key)
    r.known_keys(data, COLUMN_NORMALIZE_KEYS, key, keep_going=True)
    trim = data.get("trim")
    lower = r.boolean(data.get("lower", False), f"{key}.lower")
    upper = r.boolean(data.get("upper", False), f"{key}.upper")
    if lower and upper:
        raise r.refuse(f"{key}.upper", True, "at most one of lower and upper")
    mapping = r.mapping(data.get("map", {}), f"{key}.map", "a mapping of value -> replacement")
    for k, v in mapping.items():
        r.text(v, f"{key}.map.{k}")
    return ColumnNormalize(
        trim=None if trim is None else r.boolean(trim, f"{key}.trim"),
        lower=lower,
        upper=upper,
        map=dict(mapping),
        strip=r.str_list(data.get("strip", []), f"{key}.strip", non_empty_items=True),
        null_values=r.str_list(data.get("null_values", []), f"{key}.null_values"),
    )


def _read_checks(
    r: Reader, column: str, raw: object, key: str, type_name: str
) -> tuple[CheckSpec, ...]:
    if not isinstance(raw, list):
        raise r.refuse(key, raw, "a list of checks like [{ge: 0}, {isin: [a, b]}]")
    base = base_type(type_name)
    checks: list[CheckSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        spec = r.attempt(_read_check, r, column, item, f"{key}[{i}]", base, seen, default=None)
        if spec is not None:
            seen[spec.rule_id] = i
            checks.append(spec)
    return tuple(checks)


def _read_check(
    r: Reader, column: str, item: object, here: str, base: str, seen: Mapping[str, int]
) -> CheckSpec:
    allowed = KINDS_BY_BASE_TYPE[base]
    data = r.mapping(item, here, "a mapping with one check kind, e.g. {ge: 0}")
    r.known_keys(data, (*CHECK_KINDS, "name"), here)
    kinds = [k for k in data if k != "name"]
    if len(kinds) != 1:
        raise r.refuse(here, dict(data), f"exactly one check kind of {', '.join(CHECK_KINDS)}")
    kind = kinds[0]
    if kind not in allowed:
        raise r.refuse(
            f"{here}.{kind}", data[kind], f"a check allowed on {base}: {', '.join(allowed)}"
        )
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not CHECK_NAME_RE.match(name)):
        raise r.refuse(f"{here}.name", name, "a name of lower case letters, digits and _")
    args = _check_args(r, f"{here}.{kind}", kind, data[kind], base)
    spec = CheckSpec(column=column, kind=kind, args=args, name=name)
    if spec.rule_id in seen:
        raise r.refuse(
            f"{here}.name",
            name,
            f"a name that makes rule id {spec.rule_id!r} unique "
            f"(checks[{seen[spec.rule_id]}] has it already)",
        )
    return spec


def _check_args(r: Reader, key: str, kind: str, value: Any, base: str) -> Any:
    if kind in ("ge", "gt", "le", "lt"):
        return _bound(r, key, value, base)
    if kind == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise r.refuse(key, value, "a list [lo, hi] with lo <= hi")
        lo = _bound(r, f"{key}[0]", value[0], base)
        hi = _bound(r, f"{key}[1]", value[1], base)
        if _as_comparable(lo, base) > _as_comparable(hi, base):
            raise r.refuse(key, value, "a list [lo, hi] with lo <= hi")
        return value
    if kind in ("isin", "notin"):
        if not isinstance(value, list) or not value:
            raise r.refuse(key, value, "a non-empty list of values")
        for j, item in enumerate(value):
            _member(r, f"{key}[{j}]", item, base)
        return value
    if kind == "regex":
        return _regex(r, key, value)
    if kind == "str_length":
        return _str_length(r, key, value)
    return r.text(value, key, non_empty=True)  # expr: checked once every column is known


def _bound(r: Reader, key: str, value: Any, base: str) -> Any:
    if base in NUMERIC_TYPES:
        return r.number(value, key)
    _temporal(r, key, value, base)
    return value


def _temporal(r: Reader, key: str, value: Any, base: str) -> dt.date:
    valid = f"a {base} (YYYY-MM-DD{'[ HH:MM:SS]' if base == 'datetime' else ''})"
    parsed: dt.date | None = None
    if isinstance(value, dt.datetime):
        parsed = None if base == "date" else value
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = (
                dt.date.fromisoformat(value) if base == "date" else dt.datetime.fromisoformat(value)
            )
        except ValueError:
            parsed = None
    if parsed is None:
        raise r.refuse(key, value, valid)
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
        raise r.refuse(key, value, f"{valid} without a time zone (datetime columns are naive)")
    return parsed


def _as_comparable(value: Any, base: str) -> Any:
    if base in NUMERIC_TYPES:
        return value
    parsed = _temporal(Reader("<internal>"), "", value, base)
    if not isinstance(parsed, dt.datetime):
        parsed = dt.datetime.combine(parsed, dt.time())
    return parsed


def _member(r: Reader, key: str, item: Any, base: str) -> None:
    if base == "string":
        r.text(item, key)
    elif base == "int64":
        if isinstance(item, bool) or not isinstance(item, int):
            raise r.refuse(key, item, "an integer")
    elif base in NUMERIC_TYPES:
        r.number(item, key)
    elif base == "bool":
        r.boolean(item, key)
    else:
        _temporal(r, key, item, base)


def _regex(r: Reader, key: str, value: Any) -> str:
    pattern = r.text(value, key, non_empty=True)
    valid = "a regular expression accepted by both Python re and polars (Rust regex)"
    try:
        re.compile(pattern)
    except re.error as exc:
        raise r.refuse(key, pattern, f"{valid}; Python re: {exc}") from None
    import polars as pl

    try:
        pl.Series([""]).str.contains(pattern)
    except Exception as exc:
        detail = " ".join(str(exc).split())
        raise r.refuse(key, pattern, f"{valid}; polars: {detail}") from None
    return pattern


def _str_length(r: Reader, key: str, value: Any) -> dict[str, int]:
    valid = "a mapping {min: n, max: m} with integers 0 <= min <= max (either may be left out)"
    data = r.mapping(value, key, valid)
    r.known_keys(data, ("min", "max"), key)
    if not data:
        raise r.refuse(key, dict(data), valid)
    out: dict[str, int] = {}
    for bound in ("min", "max"):
        if bound in data:
            v = data[bound]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise r.refuse(f"{key}.{bound}", v, valid)
            out[bound] = v
    if "min" in out and "max" in out and out["min"] > out["max"]:
        raise r.refuse(key, dict(data), valid)
    return out


def check_exprs(r: Reader, columns: Sequence[ColumnSpec]) -> None:
    """Refuse expr checks that do not parse, name unknown columns or are not boolean."""
    import polars as pl

    from tidegate.contracts._types import polars_dtype

    names = [c.name for c in columns]
    empty = pl.DataFrame(schema={c.name: polars_dtype(c) for c in columns})
    for c in columns:
        for i, spec in enumerate(c.checks):
            if spec.kind != "expr":
                continue
            key = f"columns.{c.name}.checks[{i}].expr"
            valid = "a polars SQL expression (pl.sql_expr) over declared columns that is true/false"
            try:
                expr = pl.sql_expr(spec.args)
                unknown = [n for n in expr.meta.root_names() if n not in names]
            except Exception as exc:
                raise r.refuse(key, spec.args, f"{valid}; polars: {exc}") from None
            if unknown:
                raise r.refuse(key, spec.args, f"{valid}; unknown column(s) {unknown}: use {names}")
            try:
                dtype = empty.select(expr.alias("_check")).schema["_check"]
            except Exception as exc:
                detail = " ".join(str(exc).split())
                raise r.refuse(key, spec.args, f"{valid}; polars: {detail}") from None
            if dtype not in (pl.Boolean, pl.Null):
                raise r.refuse(key, spec.args, f"{valid}; it gives {dtype}, not Boolean")
