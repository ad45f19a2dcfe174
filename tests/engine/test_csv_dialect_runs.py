"""CSV dialects through a real run (``tidegate.Pipeline.from_project``, DuckDB): a header
with a missing or extra separator or a stray quote is read by the contract's columns
and quarantined once, and a changed dialect makes the skip of a committed file say so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

import tidegate
from helpers import query
from tidegate.contracts import load_contract
from tidegate.normalize import match_headers
from tidegate.normalize._headers import row_names

ROWS = "".join(f"{n},{n}.50,c{n},note {n}\n" for n in range(1, 7))
DECLARED = "4 columns (invoice_no, amount, customer, note)"
HEADERS = {
    # the header as the file has it: 3, 5, 2 fields where the contract declares 4
    "missing.csv": ("Invoice Number,amount,customer note", 3),
    "extra.csv": ("Invoice Number,amount,,customer,note", 5),
    "stray.csv": ('Invoice Number,"amount,customer,note', 2),
}


def _project(root: Path, source: dict[str, Any] | None = None) -> Path:
    (root / "schemas").mkdir(parents=True)
    contract: dict[str, Any] = {
        "source": "invoices",
        "version": 1,
        "primary_key": ["invoice_no"],
        "normalize": {"rename": {"Invoice Number": "invoice_no"}},
        "columns": {
            "invoice_no": {"type": "int64", "nullable": False},
            "amount": {"type": "float64", "nullable": False},
            "customer": {"type": "string"},
            "note": {"type": "string"},
        },
        "policy": {"max_quarantine_ratio": 0.5, "on_existing_key": "update"},
    }
    (root / "schemas" / "invoices.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    (root / "pipelines").mkdir()
    _pipeline(root, source or {})
    (root / "data").mkdir()
    return root


def _pipeline(root: Path, options: dict[str, Any]) -> None:
    pipeline = {
        "name": "invoices",
        "source": {"kind": "file", "path": "data/*.csv", **options},
        "contract": "schemas/invoices.yaml",
    }
    (root / "pipelines" / "invoices.yaml").write_text(yaml.safe_dump(pipeline))


def test_the_row_names_map_onto_the_contract(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    contract = load_contract(project / "schemas" / "invoices.yaml")
    names = row_names(contract)
    assert names == ["invoice_no", "amount", "customer", "note"]
    assert match_headers(names, contract).header_map == dict(zip(names, names, strict=True))


def test_a_malformed_header_is_one_quarantine_entry_and_every_row_loads(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    for name, (header, _) in HEADERS.items():
        # each file its own keys, so that every row is a new row of the target
        offset = 10 * len(list((project / "data").iterdir()))
        rows = "".join(f"{n + offset},{n}.50,c{n},note {n}\n" for n in range(1, 7))
        (project / "data" / name).write_text(f"{header}\n{rows}")
    store = tidegate.open_store(tmp_path / "s.duckdb")
    result = tidegate.Pipeline.from_project("invoices", project, store).run()
    assert [o.event for o in result.outcomes] == ["batch_committed"] * 3
    assert [(o.loaded, o.quarantined) for o in result.outcomes] == [(6, 1)] * 3
    assert query(store, "SELECT count(*) FROM invoices") == [(18,)]
    loaded = query(store, "SELECT invoice_no, amount, customer, note FROM invoices ORDER BY 1")
    assert loaded[0] == (1, 1.5, "c1", "note 1") and loaded[-1] == (26, 6.5, "c6", "note 6")
    entries = query(store, "SELECT location, record, raw, errors FROM quarantine ORDER BY location")
    assert len(entries) == 3
    for location, record, raw, errors in entries:
        header, fields = HEADERS[Path(location).name]
        assert record == 1 and json.loads(raw) == {"text": header}
        (error,) = json.loads(errors)
        assert error["message"] == (
            f"malformed header: {fields} fields where the contract declares {DECLARED}; "
            "rows read in the contract's column order"
        )


def test_a_changed_dialect_makes_the_skip_say_so(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    (project / "data" / "a.csv").write_text("invoice_no,amount,customer,note\n" + ROWS)
    store = tidegate.open_store(tmp_path / "s.duckdb")

    def run() -> tidegate.RunResult:
        return tidegate.Pipeline.from_project("invoices", project, store).run()

    assert [o.loaded for o in run().outcomes] == [6]
    (same,) = run().outcomes  # the dialect left at its defaults: nothing changed
    assert same.event == "batch_skipped" and "changed since" not in (same.reason or "")
    _pipeline(project, {"comment": "#", "skip_rows": 1})
    (changed,) = run().outcomes
    assert changed.event == "batch_skipped"
    assert "source options changed since: comment (default) -> #, skip_rows (default) -> 1" in (
        changed.reason or ""
    )
    assert query(store, "SELECT count(*) FROM invoices") == [(6,)]


def test_tidegate_run_reads_a_malformed_header_by_the_contract(
    tmp_path: Path, prefect_api: str
) -> None:
    """The flow hands the contract's columns to the source as the engine does."""
    from typer.testing import CliRunner

    from tidegate.cli import app

    project = _project(tmp_path / "p")
    header, fields = HEADERS["missing.csv"]
    (project / "data" / "missing.csv").write_text(f"{header}\n{ROWS}")
    store = tmp_path / "s.duckdb"
    result = CliRunner().invoke(
        app, ["run", "invoices", "--project", str(project), "--store", str(store)]
    )
    assert result.exit_code == tidegate.EXIT_OK, result.output
    assert query(store, "SELECT count(*) FROM invoices") == [(6,)]
    ((record, errors),) = query(store, "SELECT record, errors FROM quarantine")
    assert record == 1
    assert json.loads(errors)[0]["message"].startswith(
        f"malformed header: {fields} fields where the contract declares {DECLARED}"
    )
