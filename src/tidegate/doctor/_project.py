"""Readiness checks over the project files: pipelines, contracts, thresholds, schedules, PII.

Pipeline files are read as raw YAML, so a key another part of tidegate has not
learnt yet (``monitor:``) still counts for the thresholds check; whether
``tidegate run`` accepts the file is checked separately, by the real loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tidegate.contracts import Contract, check_contracts, find_contracts
from tidegate.doctor._model import CheckResult
from tidegate.errors import ContractError, TidegateError

# monitor: keys that say how to compare or whom to tell, not what to alert on
SETTING_KEYS = frozenset({"recent_batches", "webhook", "webhooks", "notify", "alerts"})
PII_TOKENS = frozenset({"name", "ssn", "dob", "surname", "passport", "iban", "zip", "postcode"})
PII_PARTS = ("email", "e_mail", "phone", "mobile", "address", "birth", "firstname", "lastname")


@dataclass(frozen=True)
class PipelineFile:
    path: Path
    name: str
    raw: dict[str, Any]
    contract_path: Path | None
    error: str | None = None  # why the file cannot be read at all
    outside: str | None = None  # why its contract is not read: outside the allowed folders


def read_pipeline_files(project: Path) -> list[PipelineFile]:
    """Every ``pipelines/*.yaml`` as raw YAML; unreadable files keep their error."""
    out = []
    for path in sorted((project / "pipelines").glob("*.y*ml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            out.append(PipelineFile(path, path.stem, {}, None, f"not valid YAML: {exc}"))
            continue
        if not isinstance(raw, dict):
            out.append(PipelineFile(path, path.stem, {}, None, "not a mapping of keys"))
            continue
        contract = raw.get("contract")
        contract_path = project / contract if isinstance(contract, str) else None
        name = str(raw.get("name", path.stem))
        outside = None if contract_path is None else _outside(path, raw, project)
        out.append(PipelineFile(path, name, raw, contract_path, outside=outside))
    return out


def _outside(path: Path, raw: dict[str, Any], project: Path) -> str | None:
    """Why the pipeline file's contract is not to be read (outside the project and its
    ``allowed_paths:``), or None."""
    from tidegate.pipelines._confine import confine, parse_allowed_paths

    try:
        roots = parse_allowed_paths(path, raw.get("allowed_paths"), project)
        confine(path, "contract", raw["contract"], project / raw["contract"], roots, project)
    except TidegateError as exc:
        return str(exc)
    return None


def pipelines_found(project: Path, files: list[PipelineFile]) -> CheckResult:
    where = project / "pipelines"
    if files:
        names = ", ".join(f.name for f in files)
        return CheckResult("pipelines", "", "pass", f"{len(files)} in {where}: {names}")
    what = "is empty" if where.is_dir() else "does not exist"
    return CheckResult(
        "pipelines",
        "",
        "fail",
        f"{where} {what}",
        "add one YAML per source in pipelines/ (name, source, contract), "
        "see README section 2; or pass --project",
    )


def pipeline_check(project: Path, f: PipelineFile) -> CheckResult:
    """The file loads as ``tidegate run`` loads it and its source finds input."""
    from tidegate.pipelines import load_pipeline
    from tidegate.pipelines._confine import confine_files
    from tidegate.sources import source_from_config

    if f.error:
        return CheckResult("pipeline", f.name, "fail", f"{f.path.name}: {f.error}", "fix the file")
    try:
        pipeline = load_pipeline(f.path, project)
        source = source_from_config(pipeline.name, pipeline.source, project)
        confine_files(source, pipeline.allowed_paths)
    except TidegateError as exc:
        return CheckResult(
            "pipeline", f.name, "fail", str(exc), f"fix {f.path.name}, then `tidegate run {f.name}`"
        )
    files = getattr(source, "files", None)
    if callable(files):
        try:
            n = len(files())
        except TidegateError as exc:
            return CheckResult(
                "pipeline",
                f.name,
                "warn",
                str(exc),
                "fine if input has not arrived yet; otherwise fix `source.path`",
            )
        return CheckResult("pipeline", f.name, "pass", f"{f.path.name}: {n} input file(s) match")
    return CheckResult("pipeline", f.name, "pass", f"{f.path.name} loads")


def contract_checks(
    project: Path, files: list[PipelineFile]
) -> tuple[list[CheckResult], dict[str, Contract]]:
    """One row per pipeline (its contract checks out), one per contract no pipeline uses."""
    schemas = project / "schemas"
    paths = set(find_contracts(schemas)) if schemas.is_dir() else set()
    used = {
        f.contract_path.resolve()
        for f in files
        if f.contract_path and not f.outside and f.contract_path.exists()
    }
    shadows = {  # candidate file -> the pipeline that shadows it
        (project / f.raw["shadow"]).resolve(): f.name
        for f in files
        if isinstance(f.raw.get("shadow"), str) and f.raw["shadow"].strip()
    }
    checked = {p.resolve(): r for p, r in check_contracts(sorted(paths | used), shadows)}
    results, contracts = [], {}
    for f in files:
        if f.contract_path is None:
            results.append(
                CheckResult(
                    "contract",
                    f.name,
                    "fail",
                    f"{f.path.name} names no `contract:`",
                    "write one (`tidegate schema infer FILE -o schemas/NAME.yaml`) and set "
                    "`contract: schemas/NAME.yaml`",
                )
            )
            continue
        if f.outside:
            results.append(
                CheckResult(
                    "contract", f.name, "fail", f.outside, f"fix `contract:` in {f.path.name}"
                )
            )
            continue
        outcome = checked.get(f.contract_path.resolve())
        rel = _rel(f.contract_path, project)
        if outcome is None:
            results.append(
                CheckResult(
                    "contract",
                    f.name,
                    "fail",
                    f"{rel} does not exist",
                    f"write it (`tidegate schema infer FILE`) or fix `contract:` in {f.path.name}",
                )
            )
        elif isinstance(outcome, ContractError):
            results.append(
                CheckResult(
                    "contract", f.name, "fail", str(outcome), "fix it, then `tidegate schema check`"
                )
            )
        else:
            contracts[f.name] = outcome
            results.append(
                CheckResult(
                    "contract",
                    f.name,
                    "pass",
                    f"{rel} v{outcome.version}, {len(outcome.columns)} columns, checks out",
                )
            )
    for path in sorted(p for p in paths if p.resolve() not in used):
        outcome = checked[path.resolve()]
        rel = _rel(path, project)
        if isinstance(outcome, ContractError):
            results.append(
                CheckResult(
                    "contract", rel, "fail", str(outcome), "fix it, then `tidegate schema check`"
                )
            )
        elif path.resolve() in shadows:
            results.append(
                CheckResult(
                    "contract",
                    rel,
                    "pass",
                    f"v{outcome.version}, checks out: the shadow candidate of pipeline "
                    f"{shadows[path.resolve()]} (nothing is loaded under it)",
                )
            )
        else:
            results.append(
                CheckResult(
                    "contract",
                    rel,
                    "warn",
                    f"source {outcome.source!r}: no pipeline uses this contract",
                    "add a pipelines/ file for it, or delete it",
                )
            )
    return results, contracts


def _rel(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path)


def threshold_keys(monitor: Any) -> list[str]:
    """The configured thresholds of a ``monitor:`` section (notification settings excluded)."""
    if not isinstance(monitor, dict):
        return []
    return [
        str(k)
        for k, v in monitor.items()
        if str(k) not in SETTING_KEYS and v not in (None, False, {}, [], "")
    ]


def thresholds_check(f: PipelineFile) -> CheckResult:
    todo = (
        f"add a `monitor:` section to {f.path.name} with at least one threshold "
        "(e.g. quarantine ratio, row count, schema drift)"
    )
    if "monitor" not in f.raw:
        return CheckResult("thresholds", f.name, "fail", "no `monitor:` section", todo)
    keys = threshold_keys(f.raw["monitor"])
    if not keys:
        return CheckResult("thresholds", f.name, "fail", "`monitor:` sets no threshold", todo)
    return CheckResult("thresholds", f.name, "pass", "monitor: " + ", ".join(keys))


def schedule_check(f: PipelineFile) -> CheckResult:
    deploy = (
        "run it on its schedule with `tidegate serve` (one long-lived process; needs "
        "PREFECT_API_URL), or register it for Prefect workers with `tidegate deploy --pool POOL`"
    )
    schedule = f.raw.get("schedule")
    if not schedule:
        return CheckResult(
            "schedule",
            f.name,
            "fail",
            "no `schedule:` and not deployed",
            f"add `schedule:` to {f.path.name}; {deploy}",
        )
    return CheckResult(
        "schedule",
        f.name,
        "warn",
        f"declared ({_short(schedule)}); doctor does not ask Prefect whether it is deployed",
        f"if not done already: {deploy}",
    )


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def looks_like_pii(column: str) -> bool:
    """email, phone, name, address, ssn, birth... in a column name (snake or camel case)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column).lower()
    tokens = set(re.split(r"[^a-z0-9]+", snake))
    return bool(tokens & PII_TOKENS) or any(part in snake for part in PII_PARTS)


def pii_check(name: str, contract: Contract) -> CheckResult:
    unmarked = [c.name for c in contract.columns if looks_like_pii(c.name) and not c.pii]
    marked = [c.name for c in contract.columns if c.pii]
    if unmarked:
        return CheckResult(
            "pii",
            name,
            "warn",
            f"look like personal data but lack `pii: true`: {', '.join(unmarked)}",
            "mark them `pii: true` in the contract (the review app masks them); "
            "leave them if they hold no personal data",
        )
    shown = ", ".join(marked) if marked else "none needed"
    return CheckResult("pii", name, "pass", f"marked pii: {shown}")
