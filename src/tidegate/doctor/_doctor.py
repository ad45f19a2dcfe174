"""Run every readiness check on a project and its store, in checklist order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.doctor._audit_sql import audit_sql_check
from tidegate.doctor._model import CheckResult, DoctorReport
from tidegate.doctor._project import (
    contract_checks,
    pii_check,
    pipeline_check,
    pipelines_found,
    read_pipeline_files,
    schedule_check,
    thresholds_check,
)
from tidegate.doctor._shadow import promote_gates_check
from tidegate.doctor._store import append_only_check, chain_check, last_run_check, read_store
from tidegate.doctor._versions import versions_check

if TYPE_CHECKING:
    from tidegate.store import Store

ORDER = (
    "pipelines",
    "pipeline",
    "contract",
    "store",
    "audit chain",
    "append-only audit",
    "audit sql",
    "thresholds",
    "last run",
    "contract versions",
    "promote gates",
    "schedule",
    "pii",
)


def run_doctor(project: Path, store: Store) -> DoctorReport:
    """Grade ``project`` (pipelines/, schemas/) and ``store`` against the checklist."""
    project = project.resolve()
    files = read_pipeline_files(project)
    results: list[CheckResult] = [pipelines_found(project, files)]
    results += [pipeline_check(project, f) for f in files]
    contract_results, contracts = contract_checks(project, files)
    results += contract_results
    store_result, chain = read_store(store, [f.name for f in files])
    entries = None if chain is None else chain.kept
    results += [store_result, chain_check(chain)]
    results.append(append_only_check(store, readable=entries is not None))
    if (sql_result := audit_sql_check(store, readable=entries is not None)) is not None:
        results.append(sql_result)
    results += [thresholds_check(f) for f in files]
    results += [last_run_check(f.name, entries) for f in files]
    readable = entries is not None
    results += [versions_check(n, c, store, readable) for n, c in contracts.items()]
    results += [r for f in files if (r := promote_gates_check(f, entries)) is not None]
    results += [schedule_check(f) for f in files]
    results += [pii_check(name, c) for name, c in contracts.items()]
    results.sort(key=lambda r: ORDER.index(r.check))
    return DoctorReport(project=str(project), store=str(store), results=results)
