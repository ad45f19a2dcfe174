"""A Great Expectations (GX Core 1.x) suite named by a contract: read and classified.

A contract may name a suite (the JSON GX 1.x writes) beside or instead of its YAML
checks::

    expectations:
      suite: orders.gx.json        # relative to the contract file
      on_batch_failure: hold       # hold (default) | warn: a failed batch expectation
      row_evaluation: tidegate     # tidegate (default) | gx

Each expectation is either a *row* expectation (it judges single rows: every
unexpected row is quarantined under its rule id) or a *batch* expectation (it judges
the whole batch: a failure holds the batch, or is audited as a warning). Reading the
suite never imports GX: the types tidegate knows are classified from the lists below;
any other type is classified by GX's own registry when the suite is loaded.

Rule ids: ``<column>.<type>`` for an expectation on one column, ``_row.<type>`` for one
on several columns (or a query), ``_batch.<type>`` for a table-level one; a type
repeated on the same column gets ``.2``, ``.3`` in suite order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tidegate.errors import ContractError

GX_INSTALL = "pip install 'tidegate[gx]'"

# Row expectations tidegate evaluates itself in polars (row_evaluation: tidegate); each
# is checked against GX's own COMPLETE result in the tests.
ROW_TYPES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_values_to_be_unique",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_multicolumn_sum_to_equal",
    "expect_compound_columns_to_be_unique",
    "expect_select_column_values_to_be_unique_within_record",
    "unexpected_rows_expectation",  # GX runs it only on SQL sources: tidegate runs it in DuckDB
)
# Batch expectations: run by GX on the batch's passing rows (the referenced columns).
BATCH_TYPES = (
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_most_common_value_to_be_in_set",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_type_list",
)
SUITE_KEYS = ("suite", "on_batch_failure", "row_evaluation")


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of a suite: its GX type, its kwargs as in the suite, and where it
    sits in tidegate (``scope``, ``rule_id``)."""

    type: str
    kwargs: Mapping[str, Any]
    scope: Literal["row", "batch"]
    rule_id: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns it reads (``column``, ``column_A``/``column_B``, ``column_list``)."""
        k = self.kwargs
        if "column" in k:
            return (str(k["column"]),)
        if "column_A" in k:
            return (str(k["column_A"]), str(k["column_B"]))
        return tuple(str(c) for c in k.get("column_list", ()))

    @property
    def translated(self) -> bool:
        """True when tidegate evaluates it itself (a row type in ROW_TYPES)."""
        return self.type in ROW_TYPES

    def describe(self) -> str:
        """``expect_column_values_to_be_in_set(value_set=['a', 'b'])``: the type and its
        arguments, without the column (the rule id names it)."""
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in self.kwargs.items()
            if k not in ("column", "batch_id", "result_format")
        )
        return f"{self.type}({args})"


@dataclass(frozen=True)
class SuiteSpec:
    """A contract's GX suite, read and classified."""

    path: str
    name: str
    expectations: tuple[ExpectationSpec, ...]
    content_hash: str  # sha256 of the suite file's bytes
    document: Mapping[str, Any]  # the suite JSON as read (for GX and Data Docs)
    on_batch_failure: Literal["hold", "warn"] = "hold"
    row_evaluation: Literal["tidegate", "gx"] = "tidegate"
    # the suite file's text, as read (a recorded contract version keeps it)
    text: str = field(default="", compare=False)

    @property
    def row_expectations(self) -> tuple[ExpectationSpec, ...]:
        return tuple(e for e in self.expectations if e.scope == "row")

    @property
    def batch_expectations(self) -> tuple[ExpectationSpec, ...]:
        return tuple(e for e in self.expectations if e.scope == "batch")

    @property
    def uniqueness(self) -> tuple[ExpectationSpec, ...]:
        """The row expectations that a value (or a combination) must not repeat anywhere
        in the batch: judged chunk by chunk, then across chunks by the store. A row all of
        whose columns are missing is skipped, as GX does."""
        return tuple(
            e
            for e in self.row_expectations
            if e.type == "expect_column_values_to_be_unique"
            or (
                e.type == "expect_compound_columns_to_be_unique"
                and e.kwargs.get("ignore_row_if", "all_values_are_missing")
                == "all_values_are_missing"
            )
        )


def gx_installed() -> bool:
    """True when ``great_expectations`` can be imported (checked without importing it)."""
    return importlib.util.find_spec("great_expectations") is not None


def require_gx(file: str, key: str = "expectations.suite") -> None:
    """Refuse a contract that names a suite when the optional extra is not installed."""
    if not gx_installed():
        raise ContractError(
            file,
            key,
            "a Great Expectations suite",
            "the optional extra installed for it",
            hint=f"install it with `{GX_INSTALL}`, or remove `expectations:` from the contract",
        )


def read_suite(
    raw: object, contract_file: str, columns: list[str], text: str | None = None
) -> SuiteSpec:
    """Read the contract's ``expectations:`` mapping and the suite file it names (or
    ``text``, that file's text as a recorded contract version holds it)."""
    if not isinstance(raw, Mapping):
        raise ContractError(contract_file, "expectations", raw, "a mapping with suite: PATH.json")
    unknown = [k for k in raw if k not in SUITE_KEYS]
    if unknown:
        raise ContractError(
            contract_file, f"expectations.{unknown[0]}", unknown[0], f"one of {SUITE_KEYS}"
        )
    on_batch = raw.get("on_batch_failure", "hold")
    if on_batch not in ("hold", "warn"):
        raise ContractError(
            contract_file, "expectations.on_batch_failure", on_batch, "hold or warn"
        )
    row_eval = raw.get("row_evaluation", "tidegate")
    if row_eval not in ("tidegate", "gx"):
        raise ContractError(
            contract_file, "expectations.row_evaluation", row_eval, "tidegate or gx"
        )
    suite_ref = raw.get("suite")
    if not isinstance(suite_ref, str) or not suite_ref.strip():
        raise ContractError(
            contract_file, "expectations.suite", suite_ref, "the path of a GX 1.x suite JSON file"
        )
    require_gx(contract_file)
    base = Path(contract_file).parent if contract_file != "<memory>" else Path.cwd()
    path = (base / suite_ref) if not Path(suite_ref).is_absolute() else Path(suite_ref)
    try:
        data = path.read_bytes() if text is None else text.encode("utf-8")
    except OSError:
        raise ContractError(
            contract_file,
            "expectations.suite",
            suite_ref,
            f"an existing GX suite JSON file (looked for {path}, relative to the contract)",
        ) from None
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(
            contract_file, "expectations.suite", suite_ref, f"valid JSON ({exc})"
        ) from None
    suite = suite_from_document(
        document,
        str(path),
        contract_file,
        columns,
        content_hash=hashlib.sha256(data).hexdigest(),
        on_batch_failure=on_batch,
        row_evaluation=row_eval,
    )
    return dataclasses.replace(suite, text=data.decode("utf-8"))


def suite_from_document(
    document: object,
    path: str,
    contract_file: str,
    columns: list[str],
    *,
    content_hash: str = "",
    on_batch_failure: Any = "hold",
    row_evaluation: Any = "tidegate",
) -> SuiteSpec:
    """Classify a parsed suite's expectations; refuse what tidegate cannot run."""
    key = "expectations.suite"
    if not isinstance(document, Mapping) or not isinstance(document.get("expectations"), list):
        raise ContractError(
            contract_file, key, path, "a GX 1.x suite: an object with an 'expectations' list"
        )
    seen: dict[str, int] = {}
    specs: list[ExpectationSpec] = []
    for i, item in enumerate(document["expectations"]):
        where = f"{key} ({path}) expectations[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise ContractError(contract_file, where, item, "an object with a 'type'")
        kwargs = item.get("kwargs", {})
        if not isinstance(kwargs, Mapping):
            raise ContractError(contract_file, f"{where}.kwargs", kwargs, "an object")
        type_ = str(item["type"])
        scope = _scope(type_, contract_file, where)
        spec = ExpectationSpec(
            type=type_,
            kwargs=dict(kwargs),
            scope=scope,
            rule_id="",
            meta=dict(item.get("meta") or {}),
            description=str(item.get("description") or ""),
        )
        for c in spec.columns:
            if c not in columns:
                raise ContractError(
                    contract_file,
                    f"{where}.kwargs",
                    c,
                    f"a column the contract declares: {', '.join(columns)}",
                )
        if type_ == "unexpected_rows_expectation" and not isinstance(
            kwargs.get("unexpected_rows_query"), str
        ):
            raise ContractError(
                contract_file,
                f"{where}.kwargs.unexpected_rows_query",
                kwargs.get("unexpected_rows_query"),
                "a SQL query over {batch}",
            )
        base = _base_rule(spec)
        seen[base] = seen.get(base, 0) + 1
        rule = base if seen[base] == 1 else f"{base}.{seen[base]}"
        specs.append(_with_rule(spec, rule))
    return SuiteSpec(
        path=path,
        name=str(document.get("name") or Path(path).stem),
        expectations=tuple(specs),
        content_hash=content_hash,
        document=document,
        on_batch_failure=on_batch_failure,
        row_evaluation=row_evaluation,
    )


def _with_rule(spec: ExpectationSpec, rule: str) -> ExpectationSpec:
    return dataclasses.replace(spec, rule_id=rule)


def _base_rule(spec: ExpectationSpec) -> str:
    cols = spec.columns
    if spec.scope == "batch":
        return f"{cols[0]}.{spec.type}" if len(cols) == 1 else f"_batch.{spec.type}"
    return f"{cols[0]}.{spec.type}" if len(cols) == 1 else f"_row.{spec.type}"


def _scope(type_: str, contract_file: str, where: str) -> Literal["row", "batch"]:
    if type_ in ROW_TYPES:
        return "row"
    if type_ in BATCH_TYPES:
        return "batch"
    return _scope_from_gx(type_, contract_file, where)


def _scope_from_gx(type_: str, contract_file: str, where: str) -> Literal["row", "batch"]:
    """A type tidegate does not list: GX's registry says whether it is a map expectation."""
    try:
        from great_expectations.expectations.expectation import (
            ColumnMapExpectation,
            ColumnPairMapExpectation,
            MulticolumnMapExpectation,
        )
        from great_expectations.expectations.registry import get_expectation_impl
    except ImportError:
        raise ContractError(
            contract_file, where, type_, "an expectation type", hint=f"install `{GX_INSTALL}`"
        ) from None
    try:
        impl = get_expectation_impl(type_)
    except Exception:
        impl = None
    if impl is None:
        raise ContractError(
            contract_file,
            f"{where}.type",
            type_,
            "an expectation type GX 1.x knows (expect_column_values_to_be_in_set, ...)",
        )
    map_types = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    return "row" if issubclass(impl, map_types) else "batch"
