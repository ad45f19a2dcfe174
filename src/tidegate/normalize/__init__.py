"""Declared normalization rules as polars expressions.

``normalize(frame, contract)`` maps a raw batch's headers onto the contract's
columns and applies, per column and in this order: trim, null tokens, lower/upper,
value map, substring strip, and type canonicalization (numbers, booleans, dates,
datetimes) into the canonical strings validation casts strictly. It counts, per
rule id (``amount.strip``, ``order_date.date_format``, ``_header.rename``), how
many values each rule changed.

The step builders (``trim``, ``null_tokens``, ``canonical_number``, ...) take and
return a ``pl.Expr`` so validation and tests can reuse them.

The names are imported on first use (:mod:`tidegate._lazy`): matching headers
(``match_headers``, for ``quarantine show`` and ``audit trace``) needs no polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate._lazy import lazy_exports

if TYPE_CHECKING:
    from tidegate.normalize._expressions import (
        ISO_DATE_FORMAT,
        ISO_DATETIME_FORMAT,
        NUMBER_PATTERN,
        canonical_bool,
        canonical_date,
        canonical_datetime,
        canonical_number,
        changed,
        lower,
        null_tokens,
        strip_substrings,
        trim,
        upper,
        value_map,
    )
    from tidegate.normalize._headers import HeaderMatch, fold_header, header_finding, match_headers
    from tidegate.normalize._normalize import (
        NormalizedBatch,
        Step,
        column_steps,
        describe_rules,
        normalize,
    )
    from tidegate.rules import HEADER_RENAME_RULE

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ISO_DATE_FORMAT": "._expressions",
        "ISO_DATETIME_FORMAT": "._expressions",
        "NUMBER_PATTERN": "._expressions",
        "canonical_bool": "._expressions",
        "canonical_date": "._expressions",
        "canonical_datetime": "._expressions",
        "canonical_number": "._expressions",
        "changed": "._expressions",
        "lower": "._expressions",
        "null_tokens": "._expressions",
        "strip_substrings": "._expressions",
        "trim": "._expressions",
        "upper": "._expressions",
        "value_map": "._expressions",
        "HeaderMatch": "._headers",
        "fold_header": "._headers",
        "header_finding": "._headers",
        "match_headers": "._headers",
        "NormalizedBatch": "._normalize",
        "Step": "._normalize",
        "column_steps": "._normalize",
        "describe_rules": "._normalize",
        "normalize": "._normalize",
        "HEADER_RENAME_RULE": "tidegate.rules",
    },
)

__all__ = [
    "HEADER_RENAME_RULE",
    "ISO_DATETIME_FORMAT",
    "ISO_DATE_FORMAT",
    "NUMBER_PATTERN",
    "HeaderMatch",
    "NormalizedBatch",
    "Step",
    "canonical_bool",
    "canonical_date",
    "canonical_datetime",
    "canonical_number",
    "changed",
    "column_steps",
    "describe_rules",
    "fold_header",
    "header_finding",
    "lower",
    "match_headers",
    "normalize",
    "null_tokens",
    "strip_substrings",
    "trim",
    "upper",
    "value_map",
]
