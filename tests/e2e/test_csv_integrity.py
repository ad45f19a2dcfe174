"""No CSV record merged or lost, end to end: real files through the real engine on
DuckDB, read in one chunk and in chunks of a few bytes. A stray quote at the end of a
row, an unclosed quote, a quote in the middle of a field, a quote in the header and a
quote still open at the end of the file: each physical line ends loaded or quarantined
on its own line number, and the audit entry's line figures add up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tidegate import Pipeline, contract_from_dict, open_store
from tidegate.store import Store, transaction

CONTRACT = {
    "source": "people",
    "version": 1,
    "columns": {
        "id": {"type": "int64"},
        "name": {"type": "string"},
        "city": {"type": "string"},
    },
    "policy": {"max_quarantine_ratio": 1.0},
}

ROWS = (
    "id,name,city\n"  # 1
    "1,ann,oslo\n"  # 2
    '2,abc",x\n'  # 3: a stray quote at the end of a field
    "3,bob,rome\n"  # 4
    '4,"abc,x\n'  # 5: a quote opened and never closed: it ran into lines 6-8
    "5,cy,lima\n"  # 6
    "\n"  # 7
    '6,"ab"c,z\n'  # 8: a quote in the middle of a field (the csv module would load "abc")
    '7,"say ""hi""",ok\n'  # 9: doubled quotes in a quoted field: fine
    '8,"two\nlines",ok\n'  # 10-11: a quoted line break: one record, fine
    '9,dee,"paris\n'  # 12: open at the end of the file: it ran into line 13
    "10,eve,bern"  # 13
)

HEADER = 'id,"name,city\n1,ann,oslo\n2,bob,rome\n'  # the header's quote ran into lines 2-3


def run(store: Store, path: Path, chunk_size: int | str) -> Any:
    contract = contract_from_dict(CONTRACT)
    (outcome,) = (
        Pipeline(source=str(path), contract=contract, store=store, chunk_size=chunk_size)
        .run()
        .outcomes
    )
    return outcome


def state(store: Store) -> dict[str, Any]:
    with transaction(store) as con:
        target = con.execute(
            "SELECT _tidegate_record, id, name, city FROM people ORDER BY _tidegate_record"
        ).fetchall()
        quarantine = con.execute(
            "SELECT record, raw, errors FROM quarantine ORDER BY record"
        ).fetchall()
        (detail,) = con.execute(
            "SELECT detail FROM audit WHERE event = 'batch_committed'"
        ).fetchall()[0]
    held = [(r, json.loads(raw)["text"], json.loads(e)[0]["message"]) for r, raw, e in quarantine]
    return {"target": target, "quarantine": held, "detail": json.loads(detail)}


@pytest.mark.parametrize("chunk_size", ["64MB", "7B", 1])
def test_every_line_is_loaded_or_quarantined_on_its_own(
    tmp_path: Path, chunk_size: int | str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(ROWS)
    store = open_store(tmp_path / "s.duckdb")
    outcome = run(store, path, chunk_size)
    assert (outcome.event, outcome.rows_in, outcome.loaded, outcome.quarantined) == (
        "batch_committed",
        10,
        6,
        4,
    )
    got = state(store)
    assert got["target"] == [
        (2, 1, "ann", "oslo"),
        (4, 3, "bob", "rome"),
        (6, 5, "cy", "lima"),
        (9, 7, 'say "hi"', "ok"),
        (10, 8, "two\nlines", "ok"),
        (13, 10, "eve", "bern"),
    ]
    lines = [r for r, _, _ in got["quarantine"]]
    assert lines == [3, 5, 8, 12]
    by_line = {r: (text, why) for r, text, why in got["quarantine"]}
    assert by_line[3] == (
        '2,abc",x',
        'stray quote in field 2 ("abc""): quote a field that contains quotes and double '
        'them ("abc""")',
    )
    assert by_line[5][0] == '4,"abc,x'
    assert by_line[5][1] == (
        "ragged row: 2 fields, header has 3 (an unclosed quote at line 5 ran into the "
        "next lines; each line read on its own)"
    )
    assert by_line[8][0] == '6,"ab"c,z' and by_line[8][1].startswith("stray quote in field 2")
    assert by_line[12][0] == '9,dee,"paris'
    assert by_line[12][1].startswith('unclosed quote in field 3 ("paris)')
    assert got["detail"]["lines"] == {
        "physical": 13,
        "records": 10,
        "record_lines": 11,
        "blank": 1,
        "header": 1,
    }
    assert got["detail"]["rows_in"] == 10


@pytest.mark.parametrize("chunk_size", ["64MB", "5B"])
def test_a_quote_in_the_header_is_a_finding_and_the_rows_load(
    tmp_path: Path, chunk_size: int | str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER)
    store = open_store(tmp_path / "s.duckdb")
    outcome = run(store, path, chunk_size)
    assert (outcome.rows_in, outcome.loaded, outcome.quarantined) == (3, 2, 1)
    got = state(store)
    assert got["target"] == [(2, 1, "ann", "oslo"), (3, 2, "bob", "rome")]
    # the run hands the contract's columns to the reader: the header's open quote is
    # closed at its line's end, and the header judged against the contract (without a
    # contract: "a quote opened in the header ran into lines 2-3", tests/sources)
    assert got["quarantine"] == [
        (
            1,
            'id,"name,city',
            "malformed header: 2 fields where the contract declares 3 columns (id, name, "
            "city); rows read in the contract's column order",
        )
    ]
    assert got["detail"]["lines"] == {"physical": 3, "records": 3, "record_lines": 3}


DIALECT = {"delimiter": ";", "skip_rows": 2, "comment": "#", "header_rows": 2}
DIALECT_ROWS = (
    "Report: people\n"  # 1: preamble
    "exported today\n"  # 2: preamble
    "id;name;city\n"  # 3: header row 1
    "# a comment between the header rows\n"  # 4: comment
    ";;\n"  # 5: header row 2 (names: id, name, city)
    "1;ann;oslo\n"  # 6
    "\n"  # 7: blank
    "# note\n"  # 8: comment
    '2;"bob;b";rome\n'  # 9: a quoted delimiter: fine
    '3;"ab"c;x\n'  # 10: a quote in the middle of a field
    '4;"two\nlines";ok\n'  # 11-12: a quoted line break: one record
    '5;"open;x\n'  # 13: never closed: it ran into lines 14-15
    "6;eve;bern\n"  # 14
    "# tail\n"  # 15: a comment again once read line by line
)


@pytest.mark.parametrize("chunk_size", ["64MB", "7B", 1])
def test_the_line_figures_add_up_in_another_dialect(tmp_path: Path, chunk_size: int | str) -> None:
    """Preamble, comment, multi-row header and blank lines are counted with the records:
    the batch is committed (not held as unaccounted) and the audit says how."""
    path = tmp_path / "people.csv"
    path.write_text(DIALECT_ROWS)
    store = open_store(tmp_path / "s.duckdb")
    contract = contract_from_dict(CONTRACT)
    source = {"kind": "file", "path": str(path), **DIALECT}
    (outcome,) = (
        Pipeline(source=source, contract=contract, store=store, chunk_size=chunk_size)
        .run()
        .outcomes
    )
    assert (outcome.event, outcome.rows_in, outcome.loaded, outcome.quarantined) == (
        "batch_committed",
        6,
        4,
        2,
    )
    got = state(store)
    assert got["target"] == [
        (6, 1, "ann", "oslo"),
        (9, 2, "bob;b", "rome"),
        (11, 4, "two\nlines", "ok"),
        (14, 6, "eve", "bern"),
    ]
    assert [(r, text) for r, text, _ in got["quarantine"]] == [
        (10, '3;"ab"c;x'),
        (13, '5;"open;x'),
    ]
    assert got["quarantine"][0][2].startswith("stray quote in field 2")
    assert got["quarantine"][1][2] == (
        "ragged row: 2 fields, header has 3 (an unclosed quote at line 13 ran into the "
        "next lines; each line read on its own)"
    )
    assert got["detail"]["lines"] == {
        "physical": 15,
        "records": 6,
        "record_lines": 7,
        "blank": 1,
        "comment": 3,
        "header": 2,
        "preamble": 2,
    }
