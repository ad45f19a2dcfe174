"""The current contract of a source: the file its pipeline names in ``contract:``.

Rollback (and promote) write a contract text into that file. The file is found by the
``source:`` it declares, read without checking the rest, so a file being edited (or
broken) is still found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tidegate.errors import PipelineError
from tidegate.pipelines._spec import PipelineSpec, load_pipelines


def declared_source(path: Path) -> str | None:
    """The ``source:`` a contract file declares, or None when it cannot be read as one."""
    from tidegate.contracts._load import parse_yaml
    from tidegate.errors import ContractError

    try:
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ContractError):
        return None
    source = data.get("source") if isinstance(data, dict) else None
    return source if isinstance(source, str) else None


def raw_pipelines(project_dir: Path) -> list[dict[str, Any]]:
    """Every ``pipelines/*.yaml`` that parses as a mapping, as raw YAML: a pipeline file
    with a mistake elsewhere still names its contract and its candidate."""
    import yaml

    found = []
    for path in sorted((project_dir / "pipelines").glob("*.y*ml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(raw, dict):
            found.append(raw)
    return found


def shadow_candidates(project_dir: Path) -> set[Path]:
    """The contract files the project's pipelines name as ``shadow:``."""
    return {
        (project_dir / raw["shadow"]).resolve()
        for raw in raw_pipelines(project_dir)
        if isinstance(raw.get("shadow"), str) and raw["shadow"].strip()
    }


def current_contract_text(project_dir: Path, source: str) -> str | None:
    """The text of the contract file a pipeline names for ``source`` (read as raw YAML,
    without the contract machinery), or None."""
    import yaml

    for raw in raw_pipelines(project_dir):
        named = raw.get("contract")
        if not isinstance(named, str):
            continue
        try:
            text = (project_dir / named).read_text(encoding="utf-8")
            data = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("source") == source:
            return text
    return None


def pipeline_of_source(project_dir: Path, source: str) -> PipelineSpec:
    """The pipeline whose contract declares ``source`` (else the pipeline named so)."""
    pipelines = load_pipelines(project_dir)
    for p in pipelines:
        if declared_source(p.contract_path) == source:
            return p
    for p in pipelines:
        if p.name == source:
            return p
    known = sorted({declared_source(p.contract_path) or p.name for p in pipelines})
    raise PipelineError(
        f"no pipeline in {project_dir / 'pipelines'} names a contract for source {source!r} "
        f"(known: {', '.join(known) or 'none'}); give one of those, or pass --project"
    )
