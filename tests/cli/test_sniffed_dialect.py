"""`tidegate new source` and `tidegate schema infer` read a CSV sample in the dialect
DuckDB's sniff_csv detects, write it into the pipeline file, and let the user's
options win (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from csv_dialects import CASES
from helpers import query
from tidegate.cli import app
from tidegate.sources._config import file_option_names
from tidegate.sources._csv import CsvOptions

runner = CliRunner()
READER_KNOWS_SKIP_ROWS = "skip_rows" in CsvOptions.__dataclass_fields__
DIALECT_KEYS = {"delimiter", "quote", "escape", "skip_rows", "header_rows", "has_header"}
DIALECT_KEYS |= {"columns", "encoding"}


def pipeline_options(expected: dict[str, Any]) -> dict[str, Any]:
    """The options a pipeline file gets for ``expected`` (the new spelling), as the
    installed reader spells them: ``has_header: false`` and no ``columns:`` for a
    reader that knows neither ``header_rows`` nor ``columns``."""
    known = file_option_names()
    out = dict(expected)
    if out.get("header_rows") == 0 and "header_rows" not in known:
        del out["header_rows"]
        out["has_header"] = False
    if "columns" in out and "columns" not in known:
        del out["columns"]
    return out


def new_source(tmp_path: Path, name: str, text: str, *extra: str) -> tuple[dict[str, Any], Any]:
    """Run `tidegate new source` on ``text``; the pipeline's source: and the contract."""
    data = tmp_path / "data" / f"{name}.csv"
    data.parent.mkdir(exist_ok=True)
    data.write_text(text, encoding="utf-8")
    project = tmp_path / "p"
    args = ["new", "source", name, "--from", str(data), "-p", str(project), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    pipeline_text = (project / "pipelines" / f"{name}.yaml").read_text()
    assert "# detected by tidegate schema infer (DuckDB sniff_csv): " in pipeline_text
    pipeline = yaml.safe_load(pipeline_text)
    contract = yaml.safe_load((project / "schemas" / f"{name}.yaml").read_text())
    return pipeline["source"], contract


@pytest.mark.parametrize("case", sorted(CASES))
def test_new_source_writes_the_detected_dialect_and_infers_the_right_columns(
    tmp_path: Path, case: str
) -> None:
    text, _, options, names, _ = CASES[case]
    source, contract = new_source(tmp_path, case, text)
    assert source["kind"] == "file" and source["format"] == "csv"
    assert {k: v for k, v in source.items() if k in DIALECT_KEYS} == pipeline_options(options)
    assert list(contract["columns"]) == names


@pytest.mark.parametrize("case", ["semicolon", "pipe_quoted", "single_quote", "headerless"])
def test_schema_infer_writes_a_pipeline_and_prints_the_dialect_on_stderr(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, _, options, names, _ = CASES[case]
    monkeypatch.chdir(tmp_path)
    Path("sample.csv").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["schema", "infer", "sample.csv", "--pipeline", "p.yaml"])
    assert result.exit_code == 0, result.output
    contract = yaml.safe_load(result.stdout)
    assert list(contract["columns"]) == names
    assert "CSV dialect of sample.csv" in result.stderr
    for key, value in pipeline_options(options).items():
        assert key in result.stderr and "DuckDB sniff_csv" in result.stderr, (key, value)
    pipeline = yaml.safe_load(Path("p.yaml").read_text())
    assert pipeline["name"] == "sample"
    assert pipeline["source"]["path"] == "sample.csv"
    assert pipeline["contract"] == "schemas/sample.yaml"
    dialect = {k: v for k, v in pipeline["source"].items() if k in DIALECT_KEYS}
    assert dialect == pipeline_options(options)


def test_schema_infer_updates_the_csv_options_of_an_existing_pipeline_keeping_the_rest(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "orders.csv"
    sample.write_text(CASES["preamble"][0], encoding="utf-8")
    pipeline = tmp_path / "orders.yaml"
    pipeline.write_text(
        "# our orders feed\n"
        "name: orders\n"
        "source:\n"
        "    kind: file   # from the ERP\n"
        '    path: "exports/*.csv"\n'
        "    delimiter: ','\n"
        "    has_header: true\n"
        "    chunk_size: 5000\n"
        "\n"
        "contract: schemas/orders.yaml\n"
        "schedule: {cron: '0 6 * * *'}\n"
    )
    result = runner.invoke(app, ["schema", "infer", str(sample), "--pipeline", str(pipeline)])
    assert result.exit_code == 0, result.output
    text = pipeline.read_text()
    assert text.startswith("# our orders feed\n") and "# from the ERP" in text
    assert "    # detected by tidegate schema infer (DuckDB sniff_csv): " in text
    written = yaml.safe_load(text)
    assert written["source"] == {
        "kind": "file",
        "path": "exports/*.csv",
        "chunk_size": 5000,
        **pipeline_options({"delimiter": ";", "skip_rows": 2}),
    }
    assert written["schedule"] == {"cron": "0 6 * * *"} and written["name"] == "orders"
    again = runner.invoke(app, ["schema", "infer", str(sample), "--pipeline", str(pipeline)])
    assert again.exit_code == 0, again.output
    assert pipeline.read_text() == text  # a second run changes nothing


def test_schema_infer_will_not_update_a_pipeline_that_is_not_a_file_source(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "orders.csv"
    sample.write_text(CASES["semicolon"][0], encoding="utf-8")
    pipeline = tmp_path / "orders.yaml"
    before = "name: orders\nsource: {kind: sql, url: 'sqlite:///x.db', table: t}\n"
    pipeline.write_text(before)
    result = runner.invoke(app, ["schema", "infer", str(sample), "--pipeline", str(pipeline)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "not `kind: file`" in result.output and 'delimiter: ";"' in result.output
    assert pipeline.read_text() == before
    flow = "name: orders\nsource: {kind: file, path: x.csv}\ncontract: schemas/orders.yaml\n"
    pipeline.write_text(flow)
    result = runner.invoke(app, ["schema", "infer", str(sample), "--pipeline", str(pipeline)])
    assert result.exit_code == 2
    assert "in place (write it as a block mapping)" in result.output.replace("\n", "")
    assert pipeline.read_text() == flow


def test_options_given_win_over_the_sniffer(tmp_path: Path) -> None:
    text = CASES["preamble"][0]
    # the user says: no header; the ';' and the 2 preamble lines are still detected
    source, contract = new_source(tmp_path, "given", text, "--no-header")
    assert (source["delimiter"], source["skip_rows"]) == (";", 2)
    assert source.get("has_header") is False or source.get("header_rows") == 0
    assert list(contract["columns"]) == ["column_1", "column_2", "column_3"]
    # the user says: no preamble; the first line is the header then
    source, contract = new_source(tmp_path, "nopre", text, "--skip-rows", "0")
    assert source["delimiter"] == ";" and "skip_rows" not in source
    assert list(contract["columns"]) == ["report_generated_2026_01_01"]
    source, contract = new_source(tmp_path, "comma", CASES["semicolon"][0], "--delimiter", ",")
    assert "delimiter" not in source
    assert list(contract["columns"]) == ["id_name_amount"]


def test_an_unsure_sniffer_means_the_defaults_said_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "ragged.csv"
    data.write_text("id,name\n1,a\n2,b,c\n3,d\n", encoding="utf-8")
    project = tmp_path / "p"
    result = runner.invoke(
        app, ["new", "source", "ragged", "--from", str(data), "-p", str(project)]
    )
    assert result.exit_code == 0, result.output
    flat = result.output.replace("\n", "")
    assert "found one column though the file has ',' in it (unsure); using the defaults" in flat
    source = yaml.safe_load((project / "pipelines" / "ragged.yaml").read_text())["source"]
    assert not DIALECT_KEYS & set(source)  # the defaults: no options
    contract = yaml.safe_load((project / "schemas" / "ragged.yaml").read_text())
    assert list(contract["columns"]) == ["id", "name"]
    assert "1 row(s) not used for the guess (ragged row; record 3)" in flat


NEEDS_SKIP_ROWS = pytest.mark.skipif(
    not READER_KNOWS_SKIP_ROWS, reason="the CSV reader does not read skip_rows yet"
)


@pytest.mark.parametrize(
    "case", ["semicolon", pytest.param("preamble", marks=NEEDS_SKIP_ROWS), "single_quote"]
)
def test_new_source_then_run_loads_every_row(tmp_path: Path, case: str, prefect_api: str) -> None:
    text, _, _, names, second = CASES[case]
    new_source(tmp_path, "report", text)
    project = tmp_path / "p"
    store = tmp_path / "x.duckdb"
    run = runner.invoke(app, ["run", "report", "-p", str(project), "--store", str(store)])
    assert run.exit_code == 0, run.output
    loaded = query(store, f"SELECT {names[1]} FROM report ORDER BY {names[0]}")
    assert [value for (value,) in loaded] == second
    assert query(store, "SELECT count(*) FROM quarantine") == [(0,)]
