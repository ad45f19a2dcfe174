"""The contract as tidegate holds it in memory, after loading and checking.

A contract says what to check; the engines in :mod:`tidegate.validate` decide how.
Rule ids are stable strings of the form ``<column>.<kind>`` (``amount.ge``,
``order_id.not_null``, ``order_date.type``) or ``_row.<kind>`` for row-level rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tidegate.contracts._diff import ContractDiff
    from tidegate.contracts._suite import SuiteSpec
    from tidegate.engine import ShadowVerdict, Verdict

ColumnType = str  # "int64" | "float64" | "decimal(p,s)" | "string" | "bool" | "date" | "datetime"

SIMPLE_TYPES = ("int64", "float64", "string", "bool", "date", "datetime")
DECIMAL_RE = re.compile(r"^decimal\((\d{1,2}),\s*(\d{1,2})\)$")
# The store's own tables: a source (its target table) may not take one of these names.
RESERVED_SOURCES = frozenset(
    {
        "quarantine",
        "audit",
        "audit_keys",
        "checkpoints",
        "batches",
        "profiles",
        "duplicates",
        "pii_keys",
        "contract_versions",
    }
)
CHECK_KINDS = ("ge", "gt", "le", "lt", "between", "isin", "notin", "regex", "str_length", "expr")

DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
DEFAULT_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
DEFAULT_TRUE_VALUES = ("true", "t", "yes", "y", "1")
DEFAULT_FALSE_VALUES = ("false", "f", "no", "n", "0")


@dataclass(frozen=True)
class CheckSpec:
    """One declared check on one column.

    ``kind`` is one of CHECK_KINDS; ``args`` holds its argument exactly as declared:
    a number for ge/gt/le/lt, ``[lo, hi]`` for between, a list for isin/notin,
    a pattern for regex, ``{"min": n, "max": m}`` for str_length, and a polars SQL
    expression string (``pl.sql_expr``) for expr, true for rows that pass.
    """

    column: str
    kind: str
    args: Any
    name: str | None = None  # optional human name; rule id stays column.kind[.name]

    @property
    def rule_id(self) -> str:
        return f"{self.column}.{self.kind}" + (f".{self.name}" if self.name else "")


@dataclass(frozen=True)
class ColumnNormalize:
    """Per-column normalization rules, applied after the contract-wide ones."""

    trim: bool | None = None  # None: inherit the contract-wide setting
    lower: bool = False
    upper: bool = False
    map: dict[str, str] = field(default_factory=dict)  # exact value -> replacement
    strip: tuple[str, ...] = ()  # substrings removed ("$", ",", "€")
    null_values: tuple[str, ...] = ()  # extra null tokens for this column


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: ColumnType
    nullable: bool = True
    unique: bool = False
    pii: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()  # other header names meaning this column
    formats: tuple[str, ...] = ()  # strptime formats for date/datetime; default ISO
    true_values: tuple[str, ...] = DEFAULT_TRUE_VALUES  # bool only, compared lower-cased
    false_values: tuple[str, ...] = DEFAULT_FALSE_VALUES
    normalize: ColumnNormalize = field(default_factory=ColumnNormalize)
    checks: tuple[CheckSpec, ...] = ()

    @property
    def decimal_precision_scale(self) -> tuple[int, int] | None:
        m = DECIMAL_RE.match(self.type)
        return (int(m.group(1)), int(m.group(2))) if m else None

    @property
    def base_type(self) -> str:
        return "decimal" if self.decimal_precision_scale else self.type


@dataclass(frozen=True)
class ContractNormalize:
    """Contract-wide normalization: header drift, trimming, null tokens."""

    rename: dict[str, str] = field(default_factory=dict)  # header as found -> column name
    null_values: tuple[str, ...] = ("",)
    trim: bool = True


@dataclass(frozen=True)
class Policy:
    on_row_failure: Literal["quarantine", "fail_batch"] = "quarantine"
    on_existing_key: Literal["update", "quarantine"] = "update"
    max_quarantine_ratio: float = 1.0  # above it the whole batch is held


@dataclass(frozen=True)
class Contract:
    source: str
    version: int
    content_hash: str  # sha256 of the canonical JSON of the parsed YAML
    path: str  # where it was loaded from ("<memory>" when built in code)
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...] = ()
    normalize: ContractNormalize = field(default_factory=ContractNormalize)
    policy: Policy = field(default_factory=Policy)
    model: str | None = None  # "package.module:DataFrameModelClass"
    description: str = ""
    expectations: SuiteSpec | None = None  # a GX suite (``expectations:``), see _suite.py
    # the YAML text it was loaded from, exactly (the store records it); two contracts
    # that say the same are equal whatever their comments and layout
    text: str = field(default="", compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def target_table(self) -> str:
        return self.source

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def diff(self, other: Contract) -> ContractDiff:
        """What changed from this contract to ``other``, in words: columns added, removed
        or renamed, types, flags, checks, normalization, policy, key and suite."""
        from tidegate.contracts._diff import diff_contracts

        return diff_contracts(self, other)

    def validate(self, frame: Any) -> Verdict:
        """This contract's verdict on a frame's rows, with no store: the rows that pass
        (typed), the rows to quarantine (with every error) and the counts.

        ``frame`` is a polars DataFrame or LazyFrame, or anything ``polars.DataFrame()``
        takes (a pandas frame, a dict of lists, a list of dicts). Bad data is never an
        exception: it is a row in ``verdict.quarantine``."""
        from tidegate.engine import validate_frame

        return validate_frame(frame, self)

    def shadow(self, frame: Any, candidate: Contract) -> ShadowVerdict:
        """What ``candidate`` (a contract for the same source) would change on
        ``frame``'s rows next to this contract, row by row, with no store: rows that
        would newly pass or newly fail, by rule, sample record numbers, whether it would
        hold the frame, and both verdicts (``.current``, ``.candidate``), as a shadowed
        pipeline run records them in its audit entries."""
        from tidegate.engine import shadow_frame

        return shadow_frame(frame, self, candidate)
