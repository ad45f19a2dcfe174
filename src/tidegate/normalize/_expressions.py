"""Each normalization step as a small function from one ``pl.Expr`` to another.

Every builder takes the expression holding a String column (as left by the
previous step) and returns the expression for the next value, String again.
Null in is null out. Validation and tests may reuse these directly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

import polars as pl

# Unicode White_Space plus the zero-width space and byte-order mark that
# spreadsheets leave behind; NBSP (\u00a0) and tabs included.
WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)

CURRENCY_SYMBOLS = "$€£¥"


# "1,234,567.5", "1_000", "1 234": digits grouped by threes with one kind of separator.
_GROUPED_PATTERN = (
    r"^-?[0-9]{1,3}(?:(?:,[0-9]{3})+|(?:_[0-9]{3})+|(?:[ \u00a0\u202f][0-9]{3})+)"
    r"(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?$"
)
_SEPARATOR_CHARS = r"[,_ \u00a0\u202f]"
# What a canonical number looks like: what validation casts strictly.
NUMBER_PATTERN = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"

ISO_DATE_FORMAT = "%Y-%m-%d"
ISO_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f"
# Always tried after a datetime column's own formats: ISO 8601 with "T" or a
# space, optional fractional seconds, optional "Z" or offset.
ISO_DATETIME_INPUT_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
)

_NULL = pl.lit(None, dtype=pl.String)


def changed(before: pl.Expr, after: pl.Expr) -> pl.Expr:
    """True where a step changed the value: different text, or null on one side only."""
    return before.ne_missing(after)


def shortened(before: pl.Expr, after: pl.Expr) -> pl.Expr:
    """``changed`` for a step that only ever removes characters (trim, strip): its value
    changed exactly where it got shorter, a length comparison instead of a text one."""
    return before.str.len_bytes() != after.str.len_bytes()


def nulled(before: pl.Expr, after: pl.Expr) -> pl.Expr:
    """``changed`` for a step that only ever turns values into null (null tokens)."""
    return before.is_not_null() & after.is_null()


def trim(expr: pl.Expr) -> pl.Expr:
    """Strip surrounding whitespace, NBSP and tabs included."""
    return expr.str.strip_chars(WHITESPACE)


_MAX_SPELLINGS = 256  # a token's case spellings looked up as they are, up to this many


def _spellings(token: str) -> set[str] | None:
    """Every way of writing an ASCII ``token`` in upper and lower case ("N/a", "nULL"...),
    the values whose lower case is the token's; None where a lookup of them would not be
    the same as lower-casing the value: a non-ASCII letter, a "k" (the Kelvin sign lower-
    cases to it), or too many spellings."""
    if not token.isascii() or "k" in token.lower():
        return None
    letters = [{ch.lower(), ch.upper()} for ch in token]
    if math.prod(len(c) for c in letters) > _MAX_SPELLINGS:
        return None
    return {"".join(p) for p in itertools.product(*letters)}


def _is_null_token(expr: pl.Expr, tokens: Sequence[str]) -> pl.Expr:
    exact = list(dict.fromkeys(tokens))
    if not any(ch.isalpha() for token in exact for ch in token):
        return expr.is_in(exact)
    spellings: set[str] = set()
    for token in exact:
        written = _spellings(token)
        if written is None:
            break
        spellings |= written
    else:  # one lookup of every spelling, no lower-cased copy of the column
        return expr.is_in(sorted(spellings))
    # Tokens with letters match in any case; lower-casing leaves the others
    # ("", "-", "?") unchanged, so one lower-cased lookup serves both kinds.
    return expr.str.to_lowercase().is_in(list(dict.fromkeys(t.lower() for t in exact)))


def null_tokens(expr: pl.Expr, tokens: Sequence[str]) -> pl.Expr:
    """Turn null tokens into null: exact match, and case-insensitive for alphabetic ones."""
    if not tokens:
        return expr
    return pl.when(_is_null_token(expr, tokens)).then(_NULL).otherwise(expr)


def lower(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase()


def upper(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_uppercase()


def value_map(expr: pl.Expr, mapping: Mapping[str, str]) -> pl.Expr:
    """Replace values that match a key exactly; leave every other value as it is."""
    if not mapping:
        return expr
    return expr.replace(dict(mapping))


def strip_substrings(
    expr: pl.Expr,
    substrings: Sequence[str],
    *,
    retrim: bool = True,
    tokens: Sequence[str] = (),
) -> pl.Expr:
    """Remove every occurrence of each substring (``"$"``, ``","``).

    With ``retrim`` the result is trimmed again ("$ 12" -> "12"). A value that
    stripping would turn into a null token (``"$"`` -> ``""``) is left as it was,
    so that validation flags it instead of it silently becoming null.
    """
    subs = [s for s in dict.fromkeys(substrings) if s]
    if not subs:
        return expr
    out = expr.str.replace_many(subs, [""] * len(subs))
    if retrim:
        out = trim(out)
    if tokens:
        out = pl.when(_is_null_token(out, tokens)).then(expr).otherwise(out)
    return out


_CURRENCY = "[" + CURRENCY_SYMBOLS + "]"
_LEADING_CURRENCY = rf"^([-(]?)\s*{_CURRENCY}\s*([0-9.])"  # "$1", "-$1", "($1)"
_TRAILING_CURRENCY = rf"([0-9.])\s*{_CURRENCY}(\)?)$"  # "12 €", "(12€)"
_PARENTHESES = r"^\(\s*([0-9.][^()]*?)\s*\)$"  # accounting negative "(12.50)"
_PLUS = r"^\+([0-9.])"


def number_prepare(expr: pl.Expr) -> pl.Expr:
    """First half of number canonicalization: drop a currency symbol next to the digits,
    "(12.50)" -> "-12.50", drop a leading "+". A straight chain of anchored patterns, so
    polars computes each piece once; a value with no digits ("$", "+") is left as is."""
    return (
        trim(expr)
        .str.replace(_LEADING_CURRENCY, "${1}${2}")
        .str.replace(_TRAILING_CURRENCY, "${1}${2}")
        .str.replace(_PARENTHESES, "-${1}")
        .str.replace(_PLUS, "${1}")
    )


def number_ungroup(expr: pl.Expr) -> pl.Expr:
    """Second half: remove thousands separators, only from digits grouped by threes
    with one kind of separator ("1,234.50", "1_000", "1 234"); "1,23" is left as is."""
    return (
        pl.when(expr.str.contains(_GROUPED_PATTERN))
        .then(expr.str.replace_all(_SEPARATOR_CHARS, ""))
        .otherwise(expr)
    )


def canonical_number(expr: pl.Expr) -> pl.Expr:
    """Canonical number text: "$1,234.50" -> "1234.50", "(12.50)" -> "-12.50", "+3" -> "3".

    normalize() runs the two halves as separate rounds (cheaper on large frames);
    this composition is for callers that want one expression. A value that is
    still not a number afterwards is left for validation to flag.
    """
    return number_ungroup(number_prepare(expr))


def canonical_bool(
    expr: pl.Expr, true_values: Iterable[str], false_values: Iterable[str]
) -> pl.Expr:
    """ "true" / "false" for values in true_values / false_values (compared lower-cased)."""
    mapping = {v.lower(): "false" for v in false_values}
    mapping.update({v.lower(): "true" for v in true_values})  # true wins a tie
    if not mapping:
        return expr
    return expr.str.to_lowercase().replace_strict(mapping, default=expr, return_dtype=pl.String)


def canonical_date(expr: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """ISO "YYYY-MM-DD" from the first format that parses; unparseable stays as it is."""
    if not formats:
        return expr
    parsed = pl.coalesce([expr.str.to_date(fmt, strict=False) for fmt in formats])
    return pl.coalesce([parsed.dt.to_string(ISO_DATE_FORMAT), expr])


def datetime_input_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """A datetime column's own formats followed by the ISO 8601 ones, without repeats."""
    return tuple(dict.fromkeys([*formats, *ISO_DATETIME_INPUT_FORMATS]))


def canonical_datetime(expr: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """ISO "YYYY-MM-DDTHH:MM:SS.ffffff", naive UTC, from the first format that parses.

    Values with an offset are converted to UTC; values without are taken as UTC.
    Unparseable values stay as they are.
    """
    parsed = pl.coalesce(
        [
            expr.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
            for fmt in datetime_input_formats(formats)
        ]
    )
    return pl.coalesce([parsed.dt.to_string(ISO_DATETIME_FORMAT), expr])
