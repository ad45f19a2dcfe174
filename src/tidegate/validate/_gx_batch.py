"""A contract's batch expectations, judged by GX Core on the rows that passed.

A suite's *batch* expectations (``expect_table_row_count_to_be_between``,
``expect_column_mean_to_be_between``, ...) judge the whole batch, not single rows:
:func:`judge_batch` runs them with Great Expectations on the batch's rows that passed
row validation (only the columns they read), in an ephemeral GX context, and returns a
:class:`BatchJudgement`: whether they held, which failed, and the summary the batch's
audit entry keeps as ``details["expectations"]`` (the shape
:mod:`tidegate.audit._data_docs` reads back). Values of ``pii: true`` columns are
masked in it. Under ``on_batch_failure: hold`` a failure holds the batch; under
``warn`` the batch commits and the failure is audited as a warning.

GX is imported here only, inside :func:`judge_batch`, and only for a suite with batch
expectations: a run without one never imports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from tidegate._masking import mask_value
from tidegate.validate._gx_context import raised, validate_with_gx

if TYPE_CHECKING:
    from tidegate.contracts._model import Contract
    from tidegate.contracts._suite import ExpectationSpec, SuiteSpec

# Expectations that read the table's column names: they see every contract column.
_TABLE_COLUMN_TYPES = (
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
)
# Expectations that judge each value's Python type: they see decimals as Decimal (the
# typed frame's ``to_pandas()``, as `schema export-gx` writes type names for); the others
# see decimal columns as floats (GX cannot average a Decimal column that holds a null).
_TYPE_TYPES = ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list")
# Expectations whose observed value is a count, a proportion or a type name, never a
# value of the column: kept in clear on a pii column.
_NOT_A_VALUE = (
    *_TYPE_TYPES,
    "expect_column_to_exist",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_unique_value_count_to_be_between",
)
_RESULT_KEYS = ("element_count", "unexpected_count", "unexpected_percent")
_SHOWN = 80  # characters of an observed value quoted in a reason


@dataclass(frozen=True)
class BatchJudgement:
    """What a suite's batch expectations said of one batch."""

    success: bool
    failed: tuple[str, ...]  # rule ids of the failed batch expectations, in suite order
    summary: dict[str, Any]  # JSON-able, for the audit entry's details["expectations"]
    on_batch_failure: str = "hold"
    observed: tuple[str, ...] = ()  # "<rule> (observed <value>)" of each failed one

    @property
    def message(self) -> str | None:
        """``batch expectation failed: <rule> (observed <value>); ...``, or None."""
        if self.success:
            return None
        return "batch expectation failed: " + "; ".join(self.observed)

    @property
    def hold_reason(self) -> str | None:
        """Why the batch is held (a failure under ``on_batch_failure: hold``), or None."""
        return self.message if self.on_batch_failure == "hold" else None

    @property
    def warning(self) -> str | None:
        """The audited warning (a failure under ``on_batch_failure: warn``), or None."""
        message = self.message
        return f"{message} (on_batch_failure: warn)" if message and not self.hold_reason else None


def judge_batch(typed_passing: pl.DataFrame, contract: Contract) -> BatchJudgement | None:
    """Run the suite's batch expectations on ``typed_passing`` (the batch's rows that
    passed row validation, typed); None when the contract's suite has none."""
    suite = contract.expectations
    if suite is None or not suite.batch_expectations:
        return None
    specs = suite.batch_expectations
    results = _run_gx(typed_passing, contract, specs)
    pii = {c.name for c in contract.columns if c.pii}
    entries = [_entry(spec, results.get(spec.rule_id), pii) for spec in specs]
    failed = [(spec, e) for spec, e in zip(specs, entries, strict=True) if not e["success"]]
    held = bool(failed) and suite.on_batch_failure == "hold"
    summary = {**base_summary(suite), "held": held, "results": entries}
    return BatchJudgement(
        success=not failed,
        failed=tuple(spec.rule_id for spec, _ in failed),
        summary=_with_totals(summary),
        on_batch_failure=suite.on_batch_failure,
        observed=tuple(_observed_text(spec, e) for spec, e in failed),
    )


def base_summary(suite: SuiteSpec) -> dict[str, Any]:
    """The summary's header: which suite, under which settings, with no results yet."""
    return {
        "suite": suite.name,
        "path": suite.path,
        "suite_sha256": suite.content_hash,
        "gx_version": _gx_version(),
        "on_batch_failure": suite.on_batch_failure,
        "row_evaluation": suite.row_evaluation,
        "held": False,
        "results": [],
    }


def with_row_results(
    summary: Mapping[str, Any] | None,
    contract: Contract,
    rule_counts: Mapping[str, int],
    rows_evaluated: int,
) -> dict[str, Any] | None:
    """The summary with one entry per row expectation of the suite (scope ``row``):
    ``rule_counts`` is the failing rows per rule id of the batch (``ValidatedBatch.
    rule_counts()``), ``rows_evaluated`` the rows judged. A summary is made when there is
    none (a suite of row expectations only); None when the contract names no suite."""
    suite = contract.expectations
    if suite is None:
        return None
    from tidegate.validate._gx_rows import evaluated_by

    out = dict(summary) if summary is not None else base_summary(suite)
    by = evaluated_by(contract)
    rows: list[dict[str, Any]] = [
        {
            "rule": spec.rule_id,
            "type": spec.type,
            "kwargs": dict(spec.kwargs),
            "scope": "row",
            "success": not rule_counts.get(spec.rule_id, 0),
            "evaluated_by": by[spec.rule_id],
            "observed_value": None,
            "element_count": rows_evaluated,
            "unexpected_count": rule_counts.get(spec.rule_id, 0),
            "unexpected_percent": _percent(rule_counts.get(spec.rule_id, 0), rows_evaluated),
            "partial_unexpected_list": [],  # the rows themselves are in the quarantine
        }
        for spec in suite.row_expectations
    ]
    out["results"] = [*rows, *out.get("results", [])]
    return _with_totals(out)


# -- GX ---------------------------------------------------------------------------------


def _gx_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("great_expectations")
    except PackageNotFoundError:
        return ""


def _frames(
    typed: pl.DataFrame, contract: Contract, specs: Iterable[ExpectationSpec]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The passing rows' referenced columns: as typed (for type expectations), and with
    decimal columns as floats (for the rest)."""
    frame = typed.select(referenced_columns(contract, specs))
    floats = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    return frame, floats


def referenced_columns(
    contract: Contract, specs: Iterable[ExpectationSpec] | None = None
) -> list[str]:
    """The contract columns the batch expectations read (all of them when one reads the
    table's column names), in contract order: all a judgement needs of the rows."""
    if specs is None:
        specs = contract.expectations.batch_expectations if contract.expectations else ()
    specs = list(specs)
    names = contract.column_names
    if any(s.type in _TABLE_COLUMN_TYPES for s in specs):
        return list(names)
    wanted = {c for s in specs for c in s.columns}
    return [c for c in names if c in wanted]


def _pandas(frame: pl.DataFrame, height: int) -> Any:
    if frame.width:
        return frame.to_pandas()
    import pandas as pd  # no column read (row counts only): the rows without columns

    return pd.DataFrame(index=range(height))


def _run_gx(
    typed: pl.DataFrame, contract: Contract, specs: tuple[ExpectationSpec, ...]
) -> dict[str, Any]:
    """GX's results of ``specs`` on ``typed``, by rule id: the type expectations on the
    typed columns, the others with decimals as floats."""
    as_typed, as_floats = _frames(typed, contract, specs)
    results: dict[str, Any] = {}
    for frame, wanted in ((as_typed, True), (as_floats, False)):
        chosen = [spec for spec in specs if (spec.type in _TYPE_TYPES) == wanted]
        if chosen:
            df = _pandas(frame, typed.height)
            results |= validate_with_gx(df, chosen, "SUMMARY", contract)
    return results


# -- results as JSON --------------------------------------------------------------------


def _json(value: Any) -> Any:
    """A GX result value as JSON: numpy scalars as numbers, NaN as null, timestamps and
    decimals as text."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _masked(value: Any) -> Any:
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return mask_value(value)


def _entry(spec: ExpectationSpec, result: Any, pii: set[str]) -> dict[str, Any]:
    """One expectation's result, in the summary's shape (pii values masked)."""
    found = dict(result.result or {}) if result is not None else {}
    entry: dict[str, Any] = {
        "rule": spec.rule_id,
        "type": spec.type,
        "kwargs": dict(spec.kwargs),
        "scope": "batch",
        "success": bool(result.success) if result is not None else False,
        "evaluated_by": "gx",
        "observed_value": _json(found.get("observed_value")),
    }
    for key in _RESULT_KEYS:
        if key in found:
            entry[key] = _json(found[key])
    if "partial_unexpected_list" in found:
        entry["partial_unexpected_list"] = _json(found["partial_unexpected_list"])
    exception = _exception(result)
    if exception:
        entry["exception"] = exception
    if pii.intersection(spec.columns):
        if spec.type not in _NOT_A_VALUE:
            entry["observed_value"] = _masked(entry["observed_value"])
        if "partial_unexpected_list" in entry:
            entry["partial_unexpected_list"] = _masked(entry["partial_unexpected_list"])
    return entry


def _exception(result: Any) -> str | None:
    """GX's message when an expectation could not be evaluated (it then fails)."""
    return "GX returned no result" if result is None else raised(result)


def _observed_text(spec: ExpectationSpec, entry: Mapping[str, Any]) -> str:
    if entry.get("exception"):
        shown = f"could not be evaluated: {entry['exception']}"
    elif entry.get("observed_value") is not None:
        shown = f"observed {_short(entry['observed_value'])}"
    elif entry.get("partial_unexpected_list"):
        shown = f"unexpected {_short(entry['partial_unexpected_list'])}"
    else:
        shown = "failed"
    return f"{spec.rule_id} ({shown})"


def _short(value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _percent(n: int, of: int) -> float:
    return 100.0 * n / of if of else 0.0


def _with_totals(summary: dict[str, Any]) -> dict[str, Any]:
    results = summary.get("results", [])
    successful = sum(bool(r.get("success")) for r in results)
    return {
        **summary,
        "evaluated": len(results),
        "successful": successful,
        "unsuccessful": len(results) - successful,
        "success": successful == len(results),
    }
