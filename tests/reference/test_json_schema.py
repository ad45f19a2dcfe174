"""The JSON Schemas and docs/reference.md are generated from the model and committed;
the files the repository ships validate, and what the loaders refuse the schema refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tidegate.contracts import contract_from_dict
from tidegate.contracts._load import parse_yaml
from tidegate.errors import ContractError, PipelineError, SourceConfigError
from tidegate.pipelines import load_pipeline
from tidegate.reference import contract_json_schema, pipeline_json_schema, reference_markdown
from tidegate.reference._contract_model import CONTRACT_EXAMPLE
from tidegate.reference._pipeline_model import PIPELINE_EXAMPLES
from tidegate.sources import source_from_config

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_MODELINE = "# yaml-language-server: $schema=../jsonschema/contract.json"
PIPELINE_MODELINE = "# yaml-language-server: $schema=../jsonschema/pipeline.json"


def as_json(text: str) -> Any:
    """YAML as tidegate (and an editor's YAML 1.2 server) reads it, as JSON values."""
    return json.loads(json.dumps(parse_yaml(text), default=str))


def errors(schema: dict[str, Any], text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [e.message for e in validator.iter_errors(as_json(text))]


@pytest.mark.parametrize(
    ("name", "make"), [("contract", contract_json_schema), ("pipeline", pipeline_json_schema)]
)
def test_committed_schema_is_the_generated_one_and_describes_every_property(
    name: str, make: Any
) -> None:
    schema = make()
    jsonschema.Draft202012Validator.check_schema(schema)
    committed = json.loads((ROOT / "jsonschema" / f"{name}.json").read_text(encoding="utf-8"))
    assert committed == schema, (
        f"jsonschema/{name}.json is stale: run "
        f"`tidegate schema json-schema {name} -o jsonschema/{name}.json`"
    )
    seen = 0

    def walk(node: Any, where: str) -> None:
        nonlocal seen
        if isinstance(node, dict):
            for prop, sub in node.get("properties", {}).items():
                seen += 1
                assert sub.get("title") and sub.get("description"), f"{where}.{prop}"
            for k, v in node.items():
                if k != "if":  # the condition of a source kind, not a declaration
                    walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(schema, name)
    assert seen > 30
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_committed_reference_page_is_the_generated_one() -> None:
    page = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert page == reference_markdown(), (
        "docs/reference.md is stale: run `python -m tidegate.reference > docs/reference.md`"
    )
    for key in ("true_values", "chunk_size", "on_existing_key", "settle_seconds", "vs_recent"):
        assert f"`{key}`" in page


def shipped(pattern: str) -> list[Path]:
    return sorted(ROOT.glob(pattern))


def test_every_contract_the_repo_ships_loads_and_validates() -> None:
    files = shipped("schemas/*.yaml") + shipped("tests/**/*.yaml")
    assert len(files) >= 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        contract_from_dict(parse_yaml(text), str(path))  # loads
        assert errors(contract_json_schema(), text) == [], path
        if path.parent.name == "schemas":
            assert text.splitlines()[0] == CONTRACT_MODELINE, path


def test_every_pipeline_the_repo_ships_validates() -> None:
    files = shipped("pipelines/*.yaml")
    assert len(files) >= 3
    for path in files:
        load_pipeline(path, ROOT)
        text = path.read_text(encoding="utf-8")
        assert errors(pipeline_json_schema(), text) == [], path
        assert text.splitlines()[0] == PIPELINE_MODELINE, path


def test_the_reference_examples_load_and_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert errors(contract_json_schema(), CONTRACT_EXAMPLE) == []
    contract = contract_from_dict(parse_yaml(CONTRACT_EXAMPLE))
    assert contract.column("gift").true_values == ("yes", "y")
    monkeypatch.setenv("ORDERS_API_TOKEN", "t0ken")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "orders.yaml").write_text(CONTRACT_EXAMPLE, encoding="utf-8")
    for kind, text in PIPELINE_EXAMPLES.items():
        assert errors(pipeline_json_schema(), text) == [], kind
        path = tmp_path / f"{kind}.yaml"
        path.write_text(text, encoding="utf-8")
        spec = load_pipeline(path, tmp_path)
        assert spec.source["kind"] == kind
        if kind in ("file", "landing", "http"):  # sql would connect for its URL
            source_from_config(spec.name, spec.source, tmp_path)


BROKEN_CONTRACTS = {
    "unknown top key": (
        "source: a\nversion: 1\ndescripton: x\ncolumns: {x: int64}\n",
        "descripton",
    ),
    "version of the wrong type": ("source: a\nversion: one\ncolumns: {x: int64}\n", "version"),
    "bad check kind": (
        "source: a\nversion: 1\ncolumns:\n  x: {type: int64, checks: [{gte: 0}]}\n",
        "columns.x.checks[0].gte",
    ),
    "unknown column key": (
        "source: a\nversion: 1\ncolumns:\n  x: {type: int64, nulable: false}\n",
        "columns.x.nulable",
    ),
    "bad policy choice": (
        "source: a\nversion: 1\ncolumns: {x: int64}\npolicy: {on_row_failure: drop}\n",
        "policy.on_row_failure",
    ),
    "bad type": ("source: a\nversion: 1\ncolumns: {x: money}\n", "columns.x.type"),
}


@pytest.mark.parametrize("case", BROKEN_CONTRACTS)
def test_a_contract_the_loader_refuses_fails_the_schema_too(case: str) -> None:
    text, key = BROKEN_CONTRACTS[case]
    with pytest.raises(ContractError) as refused:
        contract_from_dict(parse_yaml(text), "bad.yaml")
    assert refused.value.key == key
    assert errors(contract_json_schema(), text) != []


BROKEN_PIPELINES = {
    "unknown top key": "source: {kind: file, path: a.csv}\ncontract: c.yaml\nschedul: {}\n",
    "unknown source option": (
        "source: {kind: file, path: a.csv, delimeter: ';'}\ncontract: c.yaml\n"
    ),
    "unknown source kind": "source: {kind: ftp, path: a.csv}\ncontract: c.yaml\n",
    "cron and interval": (
        "source: {kind: file, path: a.csv}\ncontract: c.yaml\n"
        "schedule: {cron: '0 * * * *', interval: 60}\n"
    ),
    "chunk_size of the wrong type": (
        "source: {kind: sql, url: 'sqlite:///x', table: t, chunk_size: '64MB'}\ncontract: c.yaml\n"
    ),
    "shadow of the wrong type": "source: {kind: file, path: a.csv}\ncontract: c.yaml\nshadow: 4\n",
}


@pytest.mark.parametrize("case", BROKEN_PIPELINES)
def test_a_pipeline_the_loader_refuses_fails_the_schema_too(case: str, tmp_path: Path) -> None:
    text = BROKEN_PIPELINES[case]
    (tmp_path / "c.yaml").write_text(CONTRACT_EXAMPLE, encoding="utf-8")
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises((PipelineError, SourceConfigError)):
        spec = load_pipeline(path, tmp_path)
        source_from_config(spec.name, spec.source, tmp_path)
    assert errors(pipeline_json_schema(), text) != []


def test_the_reference_imports_neither_polars_nor_prefect() -> None:
    code = (
        "import sys\n"
        "from tidegate.reference import contract_json_schema, reference_markdown\n"
        "contract_json_schema(); reference_markdown()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'polars', 'prefect'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
