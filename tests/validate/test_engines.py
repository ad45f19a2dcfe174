from __future__ import annotations

import polars as pl

from helpers import make_contract
from tidegate.validate import validate
from tidegate.validate._engines import (
    engines_for,
    register_engine,
    registered_engines,
)


def _frame(status: list[str]) -> pl.DataFrame:
    n = len(status)
    return pl.DataFrame(
        {
            "order_id": [str(i + 1) for i in range(n)],
            "status": status,
            "amount": ["1.00"] * n,
            "order_date": ["2024-01-05"] * n,
        }
    ).with_columns(pl.int_range(2, n + 2, dtype=pl.Int64).alias("_tidegate_record"))


class _FirstRowEngine:
    """A test engine: fails row 0 of every batch of a contract whose source is 'orders'."""

    kind = "first_row"

    def applies_to(self, contract) -> bool:  # type: ignore[no-untyped-def]
        return contract.source == "orders"

    def row_failures(self, typed: pl.DataFrame, contract) -> pl.DataFrame:  # type: ignore[no-untyped-def]
        return pl.DataFrame(
            {
                "_row": [0],
                "rule": ["status.first_row"],
                "column": ["status"],
                "value": [typed["status"][0]],
                "message": ["is the first row"],
            },
            schema_overrides={"_row": pl.UInt32},
        )


def test_pandera_is_registered_by_kind_and_applies_to_every_contract() -> None:
    assert "pandera" in registered_engines()
    assert next(e.kind for e in engines_for(make_contract())) == "pandera"


def test_failures_of_every_applicable_engine_are_merged() -> None:
    engines = registered_engines()
    register_engine(_FirstRowEngine())
    try:
        v = validate(_frame(["pending", "lost"]), make_contract())
        got = set(v.failures.select("_row", "rule", "value").iter_rows())
        assert got == {(0, "status.first_row", "pending"), (1, "status.isin", "lost")}
        other = make_contract(source="payments")
        assert "first_row" not in [e.kind for e in engines_for(other)]
    finally:
        from tidegate.validate import _engines

        _engines._ENGINES.clear()
        _engines._ENGINES.update(engines)
