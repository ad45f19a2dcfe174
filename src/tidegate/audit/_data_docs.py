"""A Great Expectations Data Docs site built from audit summaries, never from data.

Each batch's audit entry keeps its suite validation as ``details["expectations"]``
(values of ``pii: true`` columns already masked); :func:`build_data_docs` turns those
summaries back into GX validation results and renders them as a local site, so the
docs can be rebuilt from the store at any time. GX is imported only here, lazily.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidegate.store import Store

SITE_NAME = "tidegate"
_RESULT_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "observed_value")


@dataclass(frozen=True)
class BatchValidation:
    """One batch's suite validation summary, with where and when it came from."""

    batch_id: str
    source: str
    location: str
    time: datetime
    summary: Mapping[str, Any]  # the audit entry's details["expectations"]


def validations_of(entries: Iterable[Any]) -> list[BatchValidation]:
    """The suite validations among audit entries (:class:`~tidegate.store.AuditEntry`):
    those whose details hold ``expectations``, with their batch, source, location and time."""
    found = []
    for entry in entries:
        details = json.loads(entry.detail) if entry.detail else {}
        summary = details.get("expectations") if isinstance(details, dict) else None
        if not isinstance(summary, dict) or not entry.batch_id:
            continue
        location = str(details.get("location") or details.get("file") or "")
        when = datetime.fromisoformat(entry.at)
        found.append(BatchValidation(entry.batch_id, entry.source or "", location, when, summary))
    return found


def _result_dict(result: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: result[k] for k in _RESULT_KEYS if k in result}
    if out.get("unexpected_count") and not all(
        out.get(k) is not None for k in ("element_count", "unexpected_percent")
    ):  # a batch expectation's unexpected values (distinct ones): not "N% of M rows", which
        out["unexpected_count"] = 0  # GX renders for any count (and fails without M)
    if "partial_unexpected_list" in result:
        out["partial_unexpected_list"] = list(result["partial_unexpected_list"])
    return out


def _validation_result(batch: BatchValidation) -> Any:
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    summary = batch.summary
    results = []
    for item in summary.get("results", []):
        config = ExpectationConfiguration(
            type=str(item["type"]),
            kwargs=dict(item.get("kwargs") or {}),
            meta={
                "rule": item.get("rule"),
                "scope": item.get("scope"),
                "evaluated_by": item.get("evaluated_by"),
            },
        )
        results.append(
            ExpectationValidationResult(
                success=bool(item.get("success")),
                expectation_config=config,
                result=_result_dict(item),
            )
        )
    evaluated = int(summary.get("evaluated", len(results)))
    successful = int(summary.get("successful", sum(bool(r.success) for r in results)))
    return ExpectationSuiteValidationResult(
        success=bool(summary.get("success")),
        results=results,
        suite_name=str(summary.get("suite", "suite")),
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": successful,
            "unsuccessful_expectations": evaluated - successful,
            "success_percent": 100.0 * successful / evaluated if evaluated else None,
        },
        meta={
            "batch_id": batch.batch_id,
            "source": batch.source,
            "location": batch.location,
            "suite_path": summary.get("path"),
            "suite_sha256": summary.get("suite_sha256"),
            "great_expectations_version": summary.get("gx_version"),
            "held": summary.get("held"),
            "on_batch_failure": summary.get("on_batch_failure"),
            "active_batch_definition": {"datasource_name": batch.source},
            "batch_spec": {"location": batch.location},
        },
    )


def _context(folder: Path) -> Any:
    from tidegate.validate._gx_context import ephemeral_context

    context = ephemeral_context()
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def build_data_docs(batches: Iterable[BatchValidation], folder: Path) -> Path:
    """Build (or update) the Data Docs site in ``folder`` with a page per batch's
    validation; returns the site's ``index.html``."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    context = _context(folder)
    store = context.validation_results_store
    for batch in batches:
        result = _validation_result(batch)
        when = batch.time if batch.time.tzinfo else batch.time.replace(tzinfo=UTC)
        run_id = RunIdentifier(run_name=batch.batch_id, run_time=when)
        result.meta["run_id"] = run_id
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=batch.batch_id,
        )
        store.set(key, result)
    context.build_data_docs(site_names=[SITE_NAME])
    return folder / "index.html"


BATCH_EVENTS = ("batch_committed", "batch_held", "batch_reprocessed")
RECENT_BATCHES = 100  # the site's index lists the latest batches of the source


def build_source_docs(store: Store, source: str, folder: Path) -> Path | None:
    """Rebuild ``folder``'s Data Docs from the latest batches of ``source`` in the audit
    trail; the site's ``index.html``, or None when no batch carries a suite validation."""
    from tidegate.audit._filters import AuditFilter
    from tidegate.audit._query import list_entries

    flt = AuditFilter.from_options(source=source, events=BATCH_EVENTS)
    batches = validations_of(list_entries(store, flt, limit=RECENT_BATCHES).entries)
    return build_data_docs(batches, folder) if batches else None
