"""Contracts to GX 1.x suites and back: GX accepts the export and flags the rows
tidegate's pandera validation flags; the import restores the same checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandera.errors
import polars as pl
import pytest

from tidegate.contracts import load_contract
from tidegate.contracts._gx_export import export_suite
from tidegate.contracts._gx_import import import_suite
from tidegate.contracts._pandera import to_pandera_schema, with_rule_ids

gx = pytest.importorskip("great_expectations")

ROOT = Path(__file__).resolve().parents[2]
EVERY_KIND = """
source: every_kind
version: 2
primary_key: [region, seq]
columns:
  region: {type: string, checks: [{isin: [north, south]}, {str_length: {min: 5, max: 5}}]}
  seq: {type: int64, checks: [{gt: 0}, {lt: 100}]}
  code: {type: string, unique: true, checks: [{regex: '^[A-Z]{3}$'}, {notin: [BAD]}]}
  score: {type: float64, nullable: false, checks: [{between: [0, 10]}, {le: 9.5, name: cap}]}
  day: {type: date, checks: [{ge: 2024-01-01}]}
  note: {type: string, checks: [{expr: "score > 1", name: positive}]}
"""
BAD_ROWS = pl.DataFrame(
    {
        "region": ["north", "south", "east", "north", "north"],
        "seq": [1, 2, 3, 200, 0],
        "code": ["ABC", "DEF", "BAD", "abc", "ABC"],
        "score": [1.0, 9.9, 3.0, 11.0, 2.0],
        "day": [dt.date(2024, 1, 2), dt.date(2023, 5, 1), None, dt.date(2024, 3, 1), None],
        "note": ["a", "b", "c", "d", "e"],
    }
)


def _contract(tmp_path: Path, text: str = EVERY_KIND):
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    return load_contract(path)


def _pandera_failures(contract, frame: pl.DataFrame) -> set[tuple[str, int]]:
    try:
        to_pandera_schema(contract).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = with_rule_ids(pl.DataFrame(exc.failure_cases)).filter(pl.col("index").is_not_null())
        pairs = cases.select("rule", "index").iter_rows()
        return {(r, int(i)) for r, i in pairs if ".expr." not in r}
    return set()


def _gx_results(document: dict, frame: pl.DataFrame):
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("p").add_dataframe_asset("frame")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame.to_pandas()}
    )
    suite = gx.ExpectationSuite(**document)
    return batch.validate(suite, result_format="COMPLETE").results


def _gx_failures(document: dict, frame: pl.DataFrame) -> tuple[set[tuple[str, int]], list]:
    rows, batch_failed = set(), []
    for result in _gx_results(document, frame):
        rule = result.expectation_config.meta["tidegate_rule"]
        indexes = result.result.get("unexpected_index_list")
        if indexes is None:
            if not result.success:
                batch_failed.append(rule)
            continue
        rows |= {(rule, int(i)) for i in indexes}
    return rows, batch_failed


def _checks(contract) -> list[tuple]:
    return [
        (
            c.name,
            c.type,
            c.nullable,
            c.unique,
            tuple((s.kind, str(s.args), s.name) for s in c.checks),
        )
        for c in contract.columns
    ]


def test_every_kind_gx_flags_the_rows_pandera_flags(tmp_path: Path) -> None:
    contract = _contract(tmp_path)
    exported = export_suite(contract)
    assert gx.ExpectationSuite(**exported.document).name == "every_kind"
    gx_rows, batch_failed = _gx_failures(exported.document, BAD_ROWS)
    pandera_rows = _pandera_failures(contract, BAD_ROWS)
    assert pandera_rows == {r for r in gx_rows if r[0] != "_row.primary_key"}
    assert ("region.isin", 2) in gx_rows and ("seq.lt", 3) in gx_rows
    assert ("score.le.cap", 1) in gx_rows and ("day.ge", 1) in gx_rows
    assert ("code.unique", 0) in gx_rows and ("code.unique", 4) in gx_rows
    assert batch_failed == []  # every column exists with the type GX sees
    assert [u.what for u in exported.untranslated] == [
        "region.type",
        "code.type",
        "note.type",
        "note.expr.positive",
    ]


def test_compound_key_is_one_expectation(tmp_path: Path) -> None:
    doc = export_suite(_contract(tmp_path)).document
    compound = [e for e in doc["expectations"] if e["type"].startswith("expect_compound")]
    assert compound == [
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["region", "seq"]},
            "meta": {"tidegate_rule": "_row.primary_key"},
        }
    ]
    frame = BAD_ROWS.with_columns(
        pl.Series("seq", [1, 1, 3, 4, 5]), pl.lit("north").alias("region")
    )
    rows, _ = _gx_failures(doc, frame)
    assert {i for r, i in rows if r == "_row.primary_key"} == {0, 1}


def test_dates_are_json_text(tmp_path: Path) -> None:
    doc = export_suite(_contract(tmp_path)).document
    day = [e for e in doc["expectations"] if e["meta"]["tidegate_rule"] == "day.ge"]
    assert day[0]["kwargs"] == {
        "column": "day",
        "min_value": "2024-01-01T00:00:00",
        "strict_min": False,
    }


@pytest.mark.parametrize("source", ["schemas/orders.yaml", "every_kind"])
def test_round_trip_restores_the_checks(tmp_path: Path, source: str) -> None:
    original = _contract(tmp_path) if source == "every_kind" else load_contract(ROOT / source)
    exported = export_suite(original)
    gx.ExpectationSuite(**exported.document)
    starter = import_suite(exported.document, suite_path="x.gx.json")
    assert starter.untranslated == ()
    assert "expectations:" not in starter.yaml
    path = tmp_path / "restored.yaml"
    path.write_text(starter.yaml, encoding="utf-8")
    restored = load_contract(path)
    assert restored.source == original.source
    assert restored.primary_key == original.primary_key
    want = _checks(original)
    if source == "every_kind":  # the expr check is not exported, so not restored
        want = [(*w[:4], tuple(s for s in w[4] if s[0] != "expr")) for w in want]
    key = original.primary_key

    def effective(rows: list[tuple]) -> list[tuple]:  # a key column is never null
        return [(n, t, nullable and n not in key, u, c) for n, t, nullable, u, c in rows]

    assert effective(_checks(restored)) == effective(want)


def test_untranslatable_expectations_keep_the_suite(tmp_path: Path) -> None:
    document = {
        "name": "shop",
        "expectations": [
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 1},
                "meta": {},
            },
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": "total", "column_B": "amount"},
                "meta": {},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}},
            {
                "type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "amount", "type_list": ["float64"]},
            },
        ],
        "meta": {},
    }
    (tmp_path / "shop.gx.json").write_text(__import__("json").dumps(document), encoding="utf-8")
    starter = import_suite(document, suite_path="shop.gx.json")
    assert [u.what for u in starter.untranslated] == [
        "expect_table_row_count_to_be_between",
        "expect_column_pair_values_a_to_be_greater_than_b",
    ]
    assert "expectations:\n  suite: shop.gx.json\n" in starter.yaml
    assert "#   expect_table_row_count_to_be_between:" in starter.yaml
    path = tmp_path / "shop.yaml"
    path.write_text(starter.yaml, encoding="utf-8")
    contract = load_contract(path)
    assert contract.source == "shop"
    assert contract.column("amount").type == "float64"
    assert contract.column("amount").nullable is False
    assert contract.column("total").type == "string"
    assert contract.expectations is not None
    assert [e.type for e in contract.expectations.expectations] == [
        d["type"] for d in document["expectations"]
    ]
