"""Pipeline files: ``pipelines/*.yaml`` say which source feeds which contract.

Loading a pipeline file imports neither Prefect nor the stages, so read-only
commands stay fast.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tidegate.errors import PipelineError
from tidegate.monitor._config import MonitorConfig, parse_monitor
from tidegate.pipelines._confine import (
    confine,
    confine_files,
    confine_source,
    parse_allowed_paths,
)
from tidegate.pipelines._promote_if import Gates, parse_promote_if
from tidegate.pipelines._schedule import (
    ConcurrencyConfig,
    ScheduleSpec,
    parse_concurrency,
    parse_retries,
    parse_schedule,
)

if TYPE_CHECKING:
    from tidegate.contracts import Contract
    from tidegate.engine._shadow import ShadowCandidate

PIPELINE_KEYS = (
    "name",
    "description",
    "source",
    "contract",
    "schedule",
    "policy",
    "monitor",
    "concurrency",
    "retries",
    "parallel",
    "data_docs",
    "shadow",
    "promote_if",
    "allowed_paths",
)
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


PARALLEL_KEYS = ("runner", "address", "workers")
RUNNERS = ("dask",)
ADDRESS_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


@dataclass(frozen=True)
class ParallelConfig:
    """The ``parallel:`` section of a pipeline file."""

    runner: str = "dask"
    address: str | None = None  # a Dask scheduler, e.g. tcp://host:8786; None: a LocalCluster
    workers: int = 2  # LocalCluster worker processes (ignored with an address)


@dataclass(frozen=True)
class PipelineSpec:
    """One pipeline file, validated: its source, its contract, when and how it runs."""

    name: str
    path: Path
    project_dir: Path
    source: dict[str, Any]
    contract_path: Path
    description: str = ""
    schedule: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    monitor: MonitorConfig | None = None  # the ``monitor:`` section, if any
    schedule_spec: ScheduleSpec | None = None  # ``schedule:``, validated
    concurrency: ConcurrencyConfig = field(default_factory=ConcurrencyConfig)
    retries: int = 0  # flow-run retries
    parallel: ParallelConfig | None = None  # ``parallel:``: items on a Dask cluster
    data_docs: Path | None = None  # ``data_docs:``: the GX Data Docs folder of its runs
    shadow: str | None = None  # ``shadow:``: a candidate contract, as the file names it
    promote_if: Gates | None = None  # ``promote_if:``: thresholds on the shadow result
    # the folders its paths may resolve into: the project, then ``allowed_paths:``
    allowed_paths: tuple[Path, ...] = ()


def _refuse(path: Path, key: str, value: object, valid: str) -> PipelineError:
    return PipelineError(f"{path}: {key}: {value!r} is not valid; expected {valid}")


def _refuse_parallel(path: Path, key: str, value: object, valid: str) -> PipelineError:
    return PipelineError(f"{path}: parallel.{key}: {value!r} is not valid; expected {valid}")


def parse_parallel(path: Path, value: object) -> ParallelConfig | None:
    """Validate a pipeline file's ``parallel:`` value (``None`` when absent)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PipelineError(
            f"{path}: parallel: {value!r} is not valid; expected a mapping such as "
            "{runner: dask, address: null, workers: 2}"
        )
    for key in value:
        if key not in PARALLEL_KEYS:
            raise _refuse_parallel(path, str(key), value[key], f"one of {', '.join(PARALLEL_KEYS)}")
    runner = value.get("runner", "dask")
    if runner not in RUNNERS:
        raise _refuse_parallel(path, "runner", runner, " or ".join(RUNNERS))
    address = value.get("address")
    if address is not None and (
        not isinstance(address, str) or not address.startswith(ADDRESS_SCHEMES)
    ):
        raise _refuse_parallel(
            path, "address", address, 'null (a local cluster) or a scheduler like "tcp://host:8786"'
        )
    workers = value.get("workers", 2)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
        raise _refuse_parallel(
            path, "workers", workers, "a whole number of worker processes, 1 to 256"
        )
    return ParallelConfig(runner=runner, address=address, workers=workers)


def load_pipeline(path: Path, project_dir: Path) -> PipelineSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _refuse(
            path,
            "(top level)",
            type(data).__name__,
            "a mapping with keys " + ", ".join(PIPELINE_KEYS),
        )
    for key in data:
        if key not in PIPELINE_KEYS:
            close = difflib.get_close_matches(str(key), PIPELINE_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _refuse(path, str(key), data[key], f"one of {', '.join(PIPELINE_KEYS)}{hint}")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _refuse(path, "name", name, "an identifier like orders or web_events")
    source = data.get("source")
    if not isinstance(source, dict):
        raise _refuse(path, "source", source, "a mapping such as {kind: file, path: data/*.csv}")
    contract = data.get("contract")
    if not isinstance(contract, str):
        raise _refuse(
            path, "contract", contract, "the path of a contract, e.g. schemas/orders.yaml"
        )
    roots = parse_allowed_paths(path, data.get("allowed_paths"), project_dir)
    confine_source(path, source, roots, project_dir)
    contract_path = project_dir / contract
    confine(path, "contract", contract, contract_path, roots, project_dir)
    if not contract_path.exists():
        raise PipelineError(
            f"{path}: contract: {contract!r} does not exist under {project_dir}"
            + ("" if contract_path.parent.is_dir() else f" (no folder {contract_path.parent})")
            + "; write it (start with `tidegate schema infer FILE`, or `tidegate init` for a "
            "new project's folders) or fix the path"
        )
    schedule = data.get("schedule")
    schedule_spec = parse_schedule(path, schedule)
    concurrency = parse_concurrency(path, data.get("concurrency"))
    retries = parse_retries(path, data.get("retries"))
    parallel = parse_parallel(path, data.get("parallel"))
    monitor = data.get("monitor")
    data_docs = data.get("data_docs")
    if data_docs is not None and (not isinstance(data_docs, str) or not data_docs.strip()):
        raise _refuse(
            path, "data_docs", data_docs, "a folder for GX Data Docs, e.g. data_docs/orders"
        )
    shadow = data.get("shadow")
    if shadow is not None and (not isinstance(shadow, str) or not shadow.strip()):
        raise _refuse(
            path, "shadow", shadow, "the path of a candidate contract, e.g. schemas/orders.v4.yaml"
        )
    if shadow is not None:
        confine(path, "shadow", shadow, project_dir / shadow, roots, project_dir)
    return PipelineSpec(
        name=name,
        path=path,
        project_dir=project_dir,
        source=source,
        contract_path=contract_path,
        description=str(data.get("description", "")),
        schedule=schedule if isinstance(schedule, dict) else None,
        extra={k: v for k, v in data.items() if k == "policy"},
        monitor=None if monitor is None else parse_monitor(path, monitor),
        schedule_spec=schedule_spec,
        concurrency=concurrency,
        retries=retries,
        parallel=parallel,
        data_docs=None if data_docs is None else project_dir / data_docs,
        shadow=shadow,
        promote_if=parse_promote_if(path, data.get("promote_if"), data.get("shadow")),
        allowed_paths=roots,
    )


def load_pipelines(project_dir: Path) -> list[PipelineSpec]:
    folder = project_dir / "pipelines"
    if not folder.is_dir():
        raise PipelineError(
            f"no pipelines/ folder in {project_dir}; run tidegate from a project folder "
            "(one with pipelines/ and schemas/), pass --project, or start one here with "
            "`tidegate init`"
        )
    pipelines = [load_pipeline(p, project_dir) for p in sorted(folder.glob("*.y*ml"))]
    seen: dict[str, Path] = {}
    for p in pipelines:
        if p.name in seen:
            raise PipelineError(f"{p.path}: name {p.name!r} is already used by {seen[p.name]}")
        seen[p.name] = p.path
    return pipelines


def find_pipeline(project_dir: Path, name: str) -> PipelineSpec:
    pipelines = load_pipelines(project_dir)
    for p in pipelines:
        if p.name == name:
            return p
    names = [p.name for p in pipelines]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise PipelineError(
        f"no pipeline named {name!r} in {project_dir / 'pipelines'}; {hint}"
        f"known: {', '.join(names) or '(none)'} (see `tidegate run --all`)"
    )


def preflight(pipeline: PipelineSpec) -> None:
    """Refuse bad configuration before Prefect starts: the contract (and the ``shadow:``
    candidate) must load, the source must build and, for files, the path or glob must
    match something."""
    from tidegate.contracts import load_contract
    from tidegate.sources import source_from_config

    contract = load_contract(pipeline.contract_path)
    shadow = load_shadow(pipeline, contract)
    for checked in (contract, shadow.contract if shadow else None):
        if checked is not None and checked.expectations is not None:
            _check_suite(checked)
    source = source_from_config(pipeline.name, pipeline.source, pipeline.project_dir)
    confine_files(source, pipeline.allowed_paths)
    files = getattr(source, "files", None)
    if callable(files):
        files()


def _check_suite(contract: Contract) -> None:
    """A contract's suite needs its engine, and queries and expectations that run."""
    from tidegate.validate._engines import engines_for
    from tidegate.validate._gx_context import check_expectations
    from tidegate.validate._gx_rows import check_queries

    engines_for(contract)
    check_queries(contract)
    check_expectations(contract)


def load_shadow(pipeline: PipelineSpec, contract: Contract) -> ShadowCandidate | None:
    """The pipeline's ``shadow:`` candidate, loaded and checked against ``contract`` (the
    pipeline's current one): a valid contract for the same source, else PipelineError
    naming both. None when the pipeline names no shadow."""
    from tidegate.contracts import load_contract
    from tidegate.engine._shadow import ShadowCandidate
    from tidegate.errors import ContractError

    if pipeline.shadow is None:
        return None
    where = f"{pipeline.path}: shadow: {pipeline.shadow!r}"
    path = pipeline.project_dir / pipeline.shadow
    if not path.is_file():
        raise PipelineError(
            f"{where} does not exist under {pipeline.project_dir}; write the candidate "
            "contract there or fix the path"
        )
    try:
        candidate = load_contract(path)
    except ContractError as exc:
        raise PipelineError(f"{where} is not a valid contract: {exc}") from exc
    if candidate.source != contract.source:
        raise PipelineError(
            f"{where} is a contract for source {candidate.source!r}, but the pipeline's "
            f"contract {pipeline.contract_path.name} is for {contract.source!r}; a shadow "
            "must be a candidate for the same source"
        )
    return ShadowCandidate(pipeline.shadow, candidate)
