"""Batch expectations judge only the rows that passed row validation, in one piece and
in chunks, on both stores; a row engine for the suite's row expectations is stubbed here
(the real one is tidegate.validate's ``great_expectations`` engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from helpers import query
from tidegate import Pipeline, contract_from_dict
from tidegate.contracts._model import Contract
from tidegate.store import Store
from tidegate.validate import _engines

pytest.importorskip("great_expectations")

IN_SET = "expect_column_values_to_be_in_set"
MEAN = "expect_column_mean_to_be_between"


class StubRowEngine:
    """Fails every row whose status is not in the in_set expectation's value_set."""

    kind = _engines.GX_ENGINE

    def applies_to(self, contract: Contract) -> bool:
        return bool(contract.expectations and contract.expectations.row_expectations)

    def row_failures(self, typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
        assert contract.expectations is not None
        (spec,) = contract.expectations.row_expectations
        allowed = list(spec.kwargs["value_set"])
        return (
            typed.with_row_index("_row")
            .filter(~pl.col("status").is_in(allowed))
            .select(
                "_row",
                pl.lit(spec.rule_id).alias("rule"),
                pl.lit("status").alias("column"),
                pl.col("status").alias("value"),
                pl.lit("not in the set").alias("message"),
            )
        )


@pytest.fixture
def stub_row_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    _engines.registered_engines()  # the defaults first, so the stub is not replaced
    monkeypatch.setitem(_engines._ENGINES, _engines.GX_ENGINE, StubRowEngine())


def write_project(tmp_path: Path, max_mean: float) -> tuple[Path, Any]:
    suite = {
        "name": "orders",
        "expectations": [
            {"type": IN_SET, "kwargs": {"column": "status", "value_set": ["new", "paid"]}},
            {"type": MEAN, "kwargs": {"column": "amount", "max_value": max_mean}},
        ],
    }
    (tmp_path / "orders.gx.json").write_text(json.dumps(suite))
    contract = contract_from_dict(
        {
            "source": "orders",
            "version": 1,
            "primary_key": ["id"],
            "columns": {
                "id": {"type": "int64"},
                "amount": {"type": "decimal(10,2)", "nullable": True},
                "status": {"type": "string"},
            },
            "policy": {"max_quarantine_ratio": 1.0},
            "expectations": {"suite": "orders.gx.json"},
        },
        str(tmp_path / "orders.yaml"),
    )
    # Passing rows: amounts 10, 20, 30 and a null (mean 20); the failing row's 1000
    # (status "lost") and the exact repeat of id 1 are not judged.
    data = tmp_path / "orders.csv"
    data.write_text(
        "id,amount,status\n1,10,new\n2,20,paid\n3,1000,lost\n4,30,new\n1,10,new\n5,,paid\n"
    )
    return data, contract


@pytest.mark.parametrize("chunk_size", [None, 2])
@pytest.mark.parametrize(("max_mean", "event"), [(20, "batch_committed"), (19, "batch_held")])
def test_batch_expectations_judge_the_rows_that_passed(
    tmp_path: Path,
    store: Store,
    stub_row_engine: None,
    chunk_size: int | None,
    max_mean: float,
    event: str,
) -> None:
    data, contract = write_project(tmp_path, max_mean)
    result = Pipeline(str(data), contract, store, chunk_size=chunk_size).run()
    (outcome,) = result.outcomes
    assert outcome.event == event
    (detail,) = query(store, "SELECT detail FROM audit WHERE event LIKE 'batch_%'")
    summary = json.loads(detail[0])["expectations"]
    (mean,) = [r for r in summary["results"] if r["type"] == MEAN]
    assert mean["observed_value"] == 20
    if event == "batch_committed":
        assert (outcome.loaded, outcome.quarantined, outcome.duplicates) == (4, 1, 1)
        assert query(store, "SELECT rules FROM quarantine") == [(f"status.{IN_SET}",)]
    else:
        assert outcome.loaded == 0 and outcome.quarantined == 5 and result.exit_code == 3
        assert query(store, "SELECT count(*) FROM orders") == [(0,)]
        assert f"batch expectation failed: amount.{MEAN} (observed 20)" in str(outcome.reason)
