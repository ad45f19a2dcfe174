"""A contract naming a GX suite is refused when no GX engine is registered: never a
suite that silently judges nothing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from helpers import suite_contract
from tidegate.errors import ConfigError
from tidegate.validate import _engines, validate
from tidegate.validate._engines import GX_ENGINE, registered_engines


def test_a_suite_without_its_engine_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_gx = {k: e for k, e in registered_engines().items() if k != GX_ENGINE}
    monkeypatch.setattr(_engines, "_ENGINES", without_gx)
    expectations = [
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "status", "value_set": ["a"]},
        }
    ]
    contract = suite_contract(tmp_path, {"status": {"type": "string"}}, expectations)
    frame = pl.DataFrame({"status": ["a", "zz"], "_tidegate_record": [1, 2]})
    with pytest.raises(ConfigError, match="no 'great_expectations' validation engine"):
        validate(frame, contract)


def test_a_suite_of_batch_expectations_only_needs_no_row_engine(tmp_path: Path) -> None:
    """Batch expectations are judged after routing (tidegate.validate.judge_batch), not
    by a row engine: such a suite is not refused."""
    expectations = [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]
    contract = suite_contract(tmp_path, {"status": {"type": "string"}}, expectations)
    frame = pl.DataFrame({"status": ["a", "zz"], "_tidegate_record": [1, 2]})
    assert validate(frame, contract).failures.is_empty()
