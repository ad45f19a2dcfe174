"""`quarantine export` writes no cell a spreadsheet would run as a formula, and
`quarantine import` of the unchanged file changes nothing (-5 stays -5)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import query
from tidegate import Pipeline
from tidegate.cli import app
from tidegate.store import open_store

runner = CliRunner()

CONTRACT = """\
source: notes
version: 1
primary_key: [id]
columns:
  id: {type: int64}
  amount: {type: int64, checks: [{ge: 0}]}
  note: {type: string}
normalize: {trim: false}
policy: {max_quarantine_ratio: 1.0}
"""
# every value fails amount >= 0, so each row is quarantined with its note as it came
NOTES = ["=1+2", "@SUM(A1)", "+HYPERLINK(x)", "-2", "'=already quoted", "plain", "\tTAB"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "schemas").mkdir(parents=True)
    (project / "schemas" / "notes.yaml").write_text(CONTRACT)
    data = project / "notes.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "amount", "note"])
        for i, note in enumerate(NOTES, start=1):
            writer.writerow([i, -5, note])
    Pipeline(str(data), project / "schemas" / "notes.yaml", project / "s.duckdb").run()
    return project


def _tg(project: Path, *args: str) -> str:
    result = runner.invoke(
        app, [*args, "--store", str(project / "s.duckdb"), "--project", str(project)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _cells(sheet: Path) -> dict[str, dict[str, str]]:
    with sheet.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_export_neutralises_formulas_and_says_so(project: Path) -> None:
    sheet = project / "sheet.csv"
    out = _tg(project, "quarantine", "export", "-s", "notes", "-o", str(sheet))
    assert "prefixed with '" in " ".join(out.split())
    rows = _cells(sheet)
    notes = sorted(row["note"] for row in rows.values())
    assert notes == sorted(
        ["'=1+2", "'@SUM(A1)", "'+HYPERLINK(x)", "'-2", "''=already quoted", "plain", "'\tTAB"]
    )
    assert {row["amount"] for row in rows.values()} == {"'-5"}
    formula = ("=", "+", "-", "@", "\t", "\r")
    for row in rows.values():
        assert not any(value.startswith(formula) for value in row.values()), row


def test_import_of_an_unchanged_export_changes_nothing(project: Path) -> None:
    sheet = project / "sheet.csv"
    _tg(project, "quarantine", "export", "-s", "notes", "-o", str(sheet))
    assert "0 record(s) edited" in _tg(project, "quarantine", "import", str(sheet))
    store = open_store(project / "s.duckdb")
    assert query(store, "SELECT count(*) FROM quarantine WHERE edited IS NOT NULL") == [(0,)]


def test_an_edited_cell_keeps_its_meaning_and_the_rest_their_values(project: Path) -> None:
    sheet = project / "sheet.csv"
    _tg(project, "quarantine", "export", "-s", "notes", "-o", str(sheet))
    with sheet.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    for row in rows:
        row["amount"] = "7"  # fixed in the spreadsheet; the notes are left as they were
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    assert f"{len(NOTES)} record(s) edited" in _tg(
        project, "quarantine", "import", str(sheet), "--replay"
    )
    store = open_store(project / "s.duckdb")
    edited = [json.loads(e) for (e,) in query(store, "SELECT edited FROM quarantine")]
    assert all(e == {"amount": "7"} for e in edited), edited  # no note was altered
    loaded = query(store, "SELECT note, amount FROM notes ORDER BY id")
    assert loaded == [(note, 7) for note in NOTES]
