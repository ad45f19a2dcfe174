"""A Data Docs site built from two audit summaries: one batch passing, one failing."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("great_expectations")

from tidegate.audit._data_docs import BatchValidation, build_data_docs, validations_of
from tidegate.store._audit_log import AuditEntry


def page_text(path: Path) -> str:
    """The words a reader sees on a page: tags, scripts and styles removed."""
    raw = re.sub(r"<script.*?</script>|<style.*?</style>", "", path.read_text("utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


PASSING = {
    "suite": "orders", "path": "schemas/orders.gx.json", "suite_sha256": "ab" * 32,
    "gx_version": "1.24.1", "row_evaluation": "tidegate", "on_batch_failure": "hold",
    "held": False, "evaluated": 1, "successful": 1, "unsuccessful": 0, "success": True,
    "results": [
        {"rule": "status.expect_column_values_to_be_in_set",
         "type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "status", "value_set": ["a", "b"]}, "scope": "row",
         "evaluated_by": "tidegate", "success": True, "element_count": 10,
         "unexpected_count": 0, "unexpected_percent": 0.0, "partial_unexpected_list": []},
    ],
}  # fmt: skip
FAILING = {
    **PASSING, "held": True, "evaluated": 2, "successful": 0, "unsuccessful": 2,
    "success": False,
    "results": [
        {"rule": "email.expect_column_values_to_match_regex",
         "type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "email", "regex": "@"}, "scope": "row",
         "evaluated_by": "tidegate", "success": False, "element_count": 1000,
         "unexpected_count": 333, "unexpected_percent": 33.3,
         "partial_unexpected_list": ["<pii>", "<pii>"]},
        {"rule": "_batch.expect_table_row_count_to_be_between",
         "type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": 5000, "max_value": 9000}, "scope": "batch",
         "evaluated_by": "gx", "success": False, "observed_value": 1000},
    ],
}  # fmt: skip


def test_site_lists_each_batch_and_shows_expectations_and_unexpected_counts(
    tmp_path: Path,
) -> None:
    when = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    batches = [
        BatchValidation("b-pass", "orders", "data/a.csv", when, PASSING),
        BatchValidation("b-fail", "orders", "data/b.csv", when.replace(hour=7), FAILING),
    ]
    index = build_data_docs(batches, tmp_path / "docs")
    assert index == (tmp_path / "docs" / "index.html").resolve()
    assert index.is_file()
    pages = list((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 2
    by_batch = {p.parent.name if p.parent.name.startswith("b-") else p.stem: p for p in pages}
    failing = page_text(by_batch["b-fail"])
    passing = page_text(by_batch["b-pass"])
    assert "match this regular expression" in failing  # the regex expectation
    assert "333 unexpected values found" in failing and "1000 total rows" in failing
    assert "greater than or equal to 5000" in failing  # the batch expectation, observed 1000
    assert "Unsuccessful Expectations" in failing and "Status: Failed" in failing
    assert "alice@example.com" not in failing  # only the summary's masked values
    assert "Status: Succeeded" in passing and "data/a.csv" in passing
    index_text = index.read_text(encoding="utf-8")
    assert "b-fail" in index_text and "b-pass" in index_text


def test_validations_are_read_from_the_entries_that_hold_a_summary() -> None:
    def entry(seq: int, detail: str) -> AuditEntry:
        return AuditEntry(seq, "2026-12-01T06:00:00+00:00", "t", "batch_committed", "orders",
                          f"b{seq}", detail, "", "")  # fmt: skip

    found = validations_of(
        [entry(1, '{"location": "data/a.csv", "expectations": {"suite": "orders"}}'),
         entry(2, '{"location": "data/b.csv"}')]
    )  # fmt: skip
    assert [(v.batch_id, v.source, v.location) for v in found] == [("b1", "orders", "data/a.csv")]
    assert found[0].summary == {"suite": "orders"} and found[0].time.year == 2026
