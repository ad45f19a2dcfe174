"""Guess one column of a starter contract from its raw text values.

Every test runs on the column's values as polars expressions, after the trimming and
null tokens normalization would apply, and each type is tried the way normalization
would read it: a number after the currency symbols and thousands separators are
removed, a date in whichever formats parse, a boolean from its tokens. The guess
keeps why it was made, for the report a person reads before trusting it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tidegate.contracts._infer_formats import choose_formats
from tidegate.contracts._model import DEFAULT_FALSE_VALUES, DEFAULT_TRUE_VALUES

NULL_TOKENS = ("", "na", "n/a", "null", "none", "nan", "nil", "-")  # compared lower-cased
INT_RE = r"^[+-]?(?:0|[1-9][0-9]*)$"
# no leading zeros ("00123" is a code, not a number)
FLOAT_RE = r"^[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
STRIPPABLE = ("$", "€", "£", "¥", ",")
# Boolean pairs beyond the defaults, declared as true_values / false_values.
EXTRA_BOOL_PAIRS = (("on", "off"), ("enabled", "disabled"), ("active", "inactive"))
KEY_NAME_RE = re.compile(r"(^|_)(id|no|nr|num|number|key|code|ref)$|number$")
MAX_ISIN = 20  # at most this many distinct values for an isin check


@dataclass
class ColumnGuess:
    header: str  # as found in the file
    name: str  # the contract's column name
    type: str
    values: int  # non-null values seen
    nulls: int
    distinct: int
    tokens: list[str]  # null tokens seen, as written
    spec: dict[str, Any] = field(default_factory=dict)  # the YAML mapping, without type
    why: str = ""
    normalization: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key_like(self) -> bool:
        """Unique, never null, and of a type a key can have."""
        return (
            self.values > 1
            and self.nulls == 0
            and self.distinct == self.values
            and self.type in ("int64", "string")
        )

    @property
    def key_named(self) -> bool:
        return bool(KEY_NAME_RE.search(self.name))


def guess_column(raw: pl.Series, header: str, name: str) -> ColumnGuess:
    text = raw.cast(pl.String).str.strip_chars()
    is_token = text.is_null() | text.str.to_lowercase().is_in(NULL_TOKENS)
    values = text.filter(~is_token)
    distinct = values.unique()
    g = ColumnGuess(
        header=header,
        name=name,
        type="string",
        values=values.len(),
        nulls=int(is_token.sum()),
        distinct=distinct.len(),
        tokens=sorted(text.filter(is_token & text.is_not_null()).unique().to_list()),
    )
    if g.values == 0:
        g.why = "no values, only nulls: string"
        return g
    if not (_bool(g, distinct) or _number(g, distinct) or _temporal(g, distinct)):
        _string(g, values, distinct)
    return g


def _bool(g: ColumnGuess, distinct: pl.Series) -> bool:
    tokens = set(distinct.str.to_lowercase().to_list())
    if tokens <= set(DEFAULT_TRUE_VALUES) | set(DEFAULT_FALSE_VALUES):
        if tokens <= {"0", "1"}:
            return False  # a 0/1 column is read as a number (declare bool if it is a flag)
        g.type, g.why = "bool", f"only the tokens {', '.join(sorted(tokens))}"
        return True
    for true, false in EXTRA_BOOL_PAIRS:
        if tokens <= {true, false} and len(tokens) == 2:
            g.type, g.why = "bool", f"only the tokens {true} and {false}"
            g.spec.update(true_values=[true], false_values=[false])
            g.normalization.append(f"true_values [{true}], false_values [{false}]")
            return True
    return False


def _number(g: ColumnGuess, distinct: pl.Series) -> bool:
    from tidegate.normalize import canonical_number  # lazily: contracts load first

    col = pl.col("v")
    frame = distinct.to_frame("v").select(
        plain_int=col.str.contains(INT_RE) & col.str.to_integer(strict=False).is_not_null(),
        plain_float=col.str.contains(FLOAT_RE),
        canonical=canonical_number(col),
    )
    canonical = frame.get_column("canonical")
    as_int = canonical.str.contains(INT_RE) & canonical.str.to_integer(strict=False).is_not_null()
    if bool(frame.get_column("plain_int").all()):
        g.type, g.why = "int64", "every value is a whole number"
    elif bool(frame.get_column("plain_float").all()):
        g.type, g.why = "float64", "every value is a number"
    elif bool(canonical.str.contains(FLOAT_RE).all()):
        strip = [s for s in STRIPPABLE if distinct.str.contains(s, literal=True).any()]
        if not strip:
            return False  # accounting negatives or a leading "+" only: leave it text
        has_currency = any(s != "," for s in strip)
        scale = max(_longest(canonical, r"\.([0-9]*)$"), 2 if has_currency else 0)
        if scale == 0 and bool(as_int.all()):
            g.type = "int64"
        else:
            whole = _longest(canonical, r"^-?([0-9]*)")
            g.type = f"decimal({min(38, max(18, whole + scale))},{scale})"
        g.why = f"every value is a number once {' and '.join(repr(s) for s in strip)} are removed"
        g.spec["normalize"] = {"strip": strip}
        g.normalization.append(f"strip {' '.join(strip)}")
    else:
        return False
    numbers = canonical.cast(pl.Float64, strict=False)
    lo, hi = numbers.min(), numbers.max()
    if not (g.key_like and g.key_named) and isinstance(lo, float) and isinstance(hi, float):
        as_type = int if g.type == "int64" else float
        g.checks.append({"ge": 0} if lo >= 0 else {"ge": as_type(lo)})
        g.checks.append({"le": as_type(hi)})
    return True


def _longest(values: pl.Series, pattern: str) -> int:
    """The most characters the first group of ``pattern`` matches in any value."""
    longest = values.str.extract(pattern).str.len_chars().max()
    return longest if isinstance(longest, int) else 0


def _temporal(g: ColumnGuess, distinct: pl.Series) -> bool:
    for kind in ("date", "datetime"):
        guess = choose_formats(distinct, kind)
        if guess is None:
            continue
        g.type = kind
        if not guess.formats:
            g.why = f"every value is an ISO 8601 {kind}"
            return True
        g.spec["formats"] = list(guess.formats)
        g.why = f"every value parses as a {kind} in {len(guess.formats)} format(s)"
        if guess.note:
            g.why += f" ({guess.note})"
        g.normalization.append(f"formats {', '.join(guess.formats)}")
        return True
    return False


def _string(g: ColumnGuess, values: pl.Series, distinct: pl.Series) -> None:
    g.why = "text"
    folded = distinct.str.to_lowercase().unique()
    repeated = g.values > g.distinct or folded.len() < g.distinct
    if folded.len() <= MAX_ISIN and repeated and g.values >= 3:
        lower = folded.len() < g.distinct
        members = sorted((folded if lower else distinct).to_list())
        if lower:
            g.spec["normalize"] = {"lower": True}
            g.normalization.append("lower")
        g.checks.append({"isin": members})
        g.why = f"text with {len(members)} distinct values repeated over {g.values} rows"
        if lower:
            g.why += " (case folded)"
