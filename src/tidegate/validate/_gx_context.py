"""Great Expectations, run on a polars frame: one ephemeral context, one pandas batch.

GX is imported here, inside the functions, so that a contract without a suite never
imports it (its import takes seconds). The frame goes to pandas once per batch, with
its default index (0..n-1: a row's position, which ``COMPLETE`` lists for each
unexpected row; naming an index column instead makes GX look each row's values up one
at a time, about 30 µs a row) and dates as ``datetime64[ns]``.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from tidegate.contracts._model import Contract
from tidegate.contracts._suite import ExpectationSpec
from tidegate.errors import ConfigError

ROW_INDEX = "_tidegate_row"
COMPLETE = {"result_format": "COMPLETE"}  # every unexpected row's index, not a partial list
_META_KEY = "tidegate_rule_id"


def pandas_frame(frame: pl.DataFrame, columns: Iterable[str]) -> Any:
    """``columns`` of ``frame`` as a pandas DataFrame indexed by position."""
    wanted = list(dict.fromkeys(columns))
    cast = [
        pl.col(c).cast(pl.Datetime("ns")) if frame[c].dtype.is_temporal() else pl.col(c)
        for c in wanted
    ]
    return frame.select(*cast).to_pandas()


def ephemeral_context() -> Any:
    """A GX ephemeral context that prints nothing: no progress bars, and GX's INFO logs
    (a temporary docs folder made, ...) kept out of tidegate's output."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX sets this module's logger to INFO itself: it says so on every context it makes.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@functools.cache
def _batch_definition() -> Any:
    """One ephemeral context per process, with a pandas datasource whose whole-dataframe
    batch definition takes each batch's frame (a context per batch would cost its set-up
    every time)."""
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch under HASH_THRESHOLD bytes (an md5 over pandas'
    # hash of every value, taken twice per validation: 40% of its CPU at 2M rows) only to
    # label the batch; tidegate names its batches itself, so the fingerprint is skipped.
    pandas_execution_engine.HASH_THRESHOLD = 0
    asset = ephemeral_context().data_sources.add_pandas("tidegate").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole batch")


_LOCK = threading.Lock()  # flows validate sources in threads; one GX context serves them


def validate_with_gx(
    frame: Any,
    specs: Iterable[ExpectationSpec],
    result_format: Mapping[str, Any] | str,
    contract: Contract,
) -> dict[str, Any]:
    """Run ``specs`` with GX on the pandas DataFrame ``frame``; rule id -> its
    ExpectationValidationResult.

    An expectation GX refuses to build (kwargs it rejects) is a ConfigError naming it; one
    that raised while evaluating is returned as it is: :func:`raised` says what."""
    import great_expectations as gx

    specs = list(specs)
    if not specs:
        return {}
    with _LOCK:  # one context serves the flow's threads
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        suite = gx.ExpectationSuite(name="tidegate")
        # A suite holds one of each distinct expectation (it drops an exact repeat even with
        # other meta): each is added once and its result given to every rule id it stands for.
        rules: dict[str, list[str]] = {}
        for spec in specs:
            key = json.dumps([spec.type, _gx_kwargs(spec)], sort_keys=True, default=str)
            if key not in rules:
                suite.add_expectation(_expectation(spec, key, contract))
            rules.setdefault(key, []).append(spec.rule_id)
        fmt = dict(result_format) if isinstance(result_format, Mapping) else result_format
        validation = batch.validate(suite, result_format=fmt)
        # GX returns results in its own order: each is matched back through its meta.
        return {
            rule: result
            for result in validation.results
            for rule in rules[result.expectation_config.meta[_META_KEY]]
        }


def check_expectations(contract: Contract) -> None:
    """Build each expectation of the contract's suite as GX would (any of them may reach
    GX: batch ones always, row ones under ``row_evaluation: gx`` or when polars cannot
    take them): kwargs GX refuses are a ConfigError naming it before any data is read."""
    suite = contract.expectations
    if suite is None:
        return
    ephemeral_context()  # GX builds expectations only inside a context
    for spec in suite.expectations:
        if spec.type != "unexpected_rows_expectation":
            _expectation(spec, "", contract)


def _gx_kwargs(spec: ExpectationSpec) -> dict[str, Any]:
    """The kwargs GX is given: the suite's, less those tidegate sets per run."""
    return {k: v for k, v in spec.kwargs.items() if k not in ("batch_id", "result_format")}


def _expectation(spec: ExpectationSpec, key: str, contract: Contract) -> Any:
    """``spec`` as a GX Expectation, ``key`` in its meta to match its result back."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    config = ExpectationConfiguration(
        type=spec.type, kwargs=_gx_kwargs(spec), meta={**spec.meta, _META_KEY: key}
    )
    try:
        return config.to_domain_obj()
    except Exception as exc:  # GX refuses the kwargs (pydantic)
        suite = contract.expectations.path if contract.expectations else ""
        raise ConfigError(
            f"contract {contract.path}: expectation {spec.rule_id} of the suite {suite} is "
            f"not one GX can run ({' '.join(str(exc).split())}); fix its kwargs in the suite"
        ) from None


def unexpected_positions(result: Any) -> pl.Series | None:
    """The positions of the rows a ``COMPLETE`` result lists as unexpected (UInt32), or
    None when GX listed none although the expectation is unmet."""
    index = result.result.get("unexpected_index_list")
    if index is None:
        return None if not result.success else pl.Series("_row", [], dtype=pl.UInt32)
    rows = [int(item[ROW_INDEX] if isinstance(item, Mapping) else item) for item in index]
    return pl.Series("_row", rows, dtype=pl.UInt32)


def raised(result: Any) -> str | None:
    """The exception GX caught while evaluating ``result``'s expectation (its message on
    one line), or None."""
    info: Mapping[str, Any] = result.exception_info or {}
    # one entry, or one per metric when GX computed several
    found = [info] if "raised_exception" in info else list(info.values())
    for item in found:
        if isinstance(item, Mapping) and item.get("raised_exception"):
            return " ".join(str(item.get("exception_message") or "error").split())
    return None
