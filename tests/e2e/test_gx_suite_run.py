"""A contract naming a GX suite, through the real CLI and Prefect flow, on both stores,
in one piece and in chunks: every row an expectation finds unexpected (hundreds, not
GX's 200) is quarantined under the expectation's rule id with its type and arguments as
the reason, the others are loaded, the counts add up, and the audit counts each rule."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from helpers import latest_artifact, query, write_csv_source
from store_backends import store_arg
from tidegate.cli import app
from tidegate.store import Store

runner = CliRunner()
ROWS = 1000
STATUS = ["ok", "late", "weird"]


# ref repeats: ids 250, 500, 750 and 1000 repeat id 1's (other chunks of 97 rows), id 3
# repeats id 2's (the same chunk); (ref, status) repeats for ids 1, 250 and 1000 only
REF_OF = {250: 1, 500: 1, 750: 1, 1000: 1, 3: 2}
REF_REPEATS = {1, 250, 500, 750, 1000, 2, 3}
PAIR_REPEATS = {1, 250, 1000}


def _line(i: int) -> str:
    code = "ABC" if i % 4 else "abc1"  # every 4th code fails the regex
    return f"{i},{STATUS[i % 3]},{i % 1000}.25,{code},R{REF_OF.get(i, i)}"


SUITE = {
    "name": "orders_suite",
    "expectations": [
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "status", "value_set": ["ok", "late"]},
        },
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "code", "regex": "^[A-Z]{3}$"},
        },
        {
            "type": "unexpected_rows_expectation",
            "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE amount > 900"},
        },
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "ref"}},
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["ref", "status"]},
        },
        # a batch expectation, judged on the rows that passed: it holds
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 100, "max_value": 1000},
        },
    ],
}
SOURCES = {"gx_whole": None, "gx_chunks": 97}


def _expected() -> dict[int, set[str]]:
    """id -> the rule ids its row fails."""
    failing: dict[int, set[str]] = {}
    for i in range(1, ROWS + 1):
        rules = set()
        if STATUS[i % 3] == "weird":
            rules.add("status.expect_column_values_to_be_in_set")
        if i % 4 == 0:
            rules.add("code.expect_column_values_to_match_regex")
        if i % 1000 + 0.25 > 900:
            rules.add("_row.unexpected_rows_expectation")
        if i in REF_REPEATS:  # across chunks too: the store finds those
            rules.add("ref.expect_column_values_to_be_unique")
        if i in PAIR_REPEATS:
            rules.add("_row.expect_compound_columns_to_be_unique")
        if rules:
            failing[i] = rules
    return failing


def make_project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    lines = ["id,status,amount,code,ref"] + [_line(i) for i in range(1, ROWS + 1)]
    (root / "data" / "orders.csv").write_text("\n".join(lines) + "\n")
    (root / "schemas").mkdir()
    (root / "schemas" / "orders.gx.json").write_text(json.dumps(SUITE))
    for source, chunk_size in SOURCES.items():
        contract = {
            "source": source,
            "version": 1,
            "primary_key": ["id"],
            "columns": {
                "id": {"type": "int64", "nullable": False},
                "status": {"type": "string"},
                "amount": {"type": "float64"},
                "code": {"type": "string"},
                "ref": {"type": "string"},
            },
            "policy": {"max_quarantine_ratio": 1.0},
            "expectations": {"suite": "orders.gx.json"},
        }
        docs = {} if chunk_size else {"data_docs": f"docs_out/{source}"}
        write_csv_source(root, contract, chunk_size=chunk_size, **docs)
    return root


def test_every_unexpected_row_of_a_suite_is_quarantined_under_its_expectation(
    store: Store, tmp_path: Path, prefect_api: str
) -> None:
    project = make_project(tmp_path / "p")
    result = runner.invoke(
        app, ["run", "--all", "--project", str(project), "--store", store_arg(store)]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output, result.output
    expected = _expected()
    per_rule: dict[str, int] = {}
    for rules in expected.values():
        for rule in rules:
            per_rule[rule] = per_rule.get(rule, 0) + 1
    assert per_rule["status.expect_column_values_to_be_in_set"] > 200
    for source in SOURCES:
        rows = query(
            store,
            "SELECT record, errors, rules FROM quarantine WHERE source = ? ORDER BY record",
            [source],
        )
        # record = line number: the header is line 1, id i is on line i + 1
        got = {record - 1: set(rules.split(",")) for record, _, rules in rows}
        assert got == expected, source
        errors = json.loads(next(e for r, e, _ in rows if r - 1 == 2))  # id 2: weird
        in_set = next(e for e in errors if e["rule"] == "status.expect_column_values_to_be_in_set")
        assert in_set["message"] == (
            "failed expect_column_values_to_be_in_set(value_set=['ok', 'late'])"
        )
        assert (in_set["column"], in_set["value"]) == ("status", "weird")
        # a repeat found across chunks reads as one found within a chunk
        repeat = json.loads(next(e for r, e, _ in rows if r - 1 == 750))
        (unique,) = [e for e in repeat if e["rule"] == "ref.expect_column_values_to_be_unique"]
        assert unique == {
            "rule": "ref.expect_column_values_to_be_unique",
            "column": "ref",
            "value": "R1",
            "message": "failed expect_column_values_to_be_unique()",
        }
        (loaded,) = query(store, f"SELECT count(*) FROM {source}")[0]
        assert loaded == ROWS - len(expected)
        (raw,) = query(
            store,
            "SELECT detail FROM audit WHERE source = ? AND event = 'batch_committed'",
            [source],
        )[0]
        detail = json.loads(raw)
        assert (detail["rows_in"], detail["loaded"], detail["quarantined"]) == (
            ROWS,
            ROWS - len(expected),
            len(expected),
        )
        assert {r: n for r, n in detail["failures"].items() if r in per_rule} == per_rule
        summary = detail["expectations"]
        assert summary["suite"] == "orders_suite" and summary["success"] is False
        results = {r["rule"]: r for r in summary["results"]}
        assert {r: results[r]["unexpected_count"] for r in per_rule} == per_rule
        assert {r: results[r]["evaluated_by"] for r in per_rule} == {
            "status.expect_column_values_to_be_in_set": "tidegate",
            "code.expect_column_values_to_match_regex": "tidegate",
            "_row.unexpected_rows_expectation": "duckdb",
            "ref.expect_column_values_to_be_unique": "tidegate",
            "_row.expect_compound_columns_to_be_unique": "tidegate",
        }
        assert all(results[r]["element_count"] == ROWS for r in per_rule)
        count = results["_batch.expect_table_row_count_to_be_between"]
        assert (count["scope"], count["success"]) == ("batch", True)
        assert count["observed_value"] == ROWS - len(expected)  # the rows that passed
        assert summary["held"] is False
    assert "verified" in runner.invoke(app, ["audit", "verify", "--store", store_arg(store)]).output
    # Data Docs: the pipeline that asked for them has a site with a page for its batch
    (batch_id,) = query(store, "SELECT batch_id FROM checkpoints WHERE source = ?", ["gx_whole"])[0]
    site = project / "docs_out" / "gx_whole"
    assert (site / "index.html").is_file()
    pages = [p for p in site.rglob("*.html") if batch_id in str(p)]
    assert pages, sorted(site.rglob("*.html"))
    page = pages[0].read_text()
    for rule, n in per_rule.items():
        assert f"{n} unexpected values found" in page, rule
    assert "values must belong to this set" in page
    link = latest_artifact("tidegate-report-gx-whole-data-docs")
    assert (site / "index.html").resolve().as_uri() in str(link.data)  # a link, as markdown
    assert not (project / "docs_out" / "gx_chunks").exists()
    report = tmp_path / "report.html"
    args = ["report", "-o", str(report), "--project", str(project), "--store", store_arg(store)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    unwrapped = "".join(shown.output.split())  # rich wraps long paths
    assert f"DataDocs,gx_whole:{site / 'index.html'}" in unwrapped
    assert (site / "index.html").resolve().as_uri() in report.read_text()
