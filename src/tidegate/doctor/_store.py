"""Readiness checks over the store: reachable, audit chain intact, last run of each source.

The audit has no run id, so "the last run of a source" is read per input file:
the newest audit event of each file the source has seen (a skip stands for the
batch it skipped). A file whose newest outcome is ``batch_held`` fails the check,
a ``file_rejected`` one warns; a source with no batch event at all has never run.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.audit._verify import KeptChain, verify_entries, verify_keeping
from tidegate.doctor._model import CheckResult
from tidegate.errors import TidegateError
from tidegate.store import AuditEntry, open_store

if TYPE_CHECKING:
    from tidegate.store import Store, StoreLike

RUN_EVENTS = (
    "batch_committed",
    "batch_held",
    "batch_reprocessed",
    "batch_skipped",
    "file_rejected",
)
STORE_WAIT_SECONDS = 5.0


def _store_errors(store: Store) -> tuple[type[Exception], ...]:
    """What reading ``store`` may raise: tidegate's errors (the PostgreSQL store's
    failures arrive as StoreError / StoreUnavailableError) and the driver's own."""
    return (TidegateError, *store.driver_errors())


def _unreadable(store: Store, exc: Exception) -> CheckResult:
    exc = store.translate_error(exc)  # a driver error that slipped through: password out
    text = str(exc)  # the PostgreSQL store's errors name the store (its URL redacted)
    detail = text if str(store) in text else f"cannot read {store}: {text}"
    return CheckResult("store", "", "fail", detail, store.unreachable_hint())


def read_store(
    store: StoreLike, sources: Collection[str] = ()
) -> tuple[CheckResult, KeptChain | None]:
    """The store check and the audit chain, verified as it is read by windows, with the
    run events of ``sources`` kept for the checks after it (None when the store cannot
    be read): memory does not grow with the rest of the chain."""
    wanted = frozenset(sources)
    store = open_store(store)
    errors = _store_errors(store)
    try:
        exists = store.exists()  # a PostgreSQL store is asked: it may not answer
    except errors as exc:
        return _unreadable(store, exc), None
    if not exists:
        return (
            CheckResult(
                "store",
                "",
                "fail",
                f"no store at {store}: nothing has been ingested there",
                "run `tidegate run --all` (or `tidegate demo`), or point --store / "
                "TIDEGATE_STORE at the production store",
            ),
            None,
        )
    try:
        chain = verify_keeping(
            store,
            lambda e: e.event in RUN_EVENTS and e.source in wanted,
            wait_seconds=STORE_WAIT_SECONDS,
        )
    except errors as exc:
        return _unreadable(store, exc), None
    if chain is None:
        return (
            CheckResult(
                "store",
                "",
                "warn",
                f"{store} is reachable but has no audit table: nothing was ingested yet",
                "run `tidegate run --all`",
            ),
            KeptChain(verify_entries([]), 0),
        )
    return CheckResult(
        "store", "", "pass", f"{store}: reachable, {chain.entries} audit entries"
    ), chain


def chain_check(chain: KeptChain | None) -> CheckResult:
    if chain is None:
        return CheckResult(
            "audit chain",
            "",
            "fail",
            "not checked: the store cannot be read",
            "see the store check",
        )
    report = chain.report
    if not report.ok:
        return CheckResult(
            "audit chain",
            "",
            "fail",
            f"broken at seq {report.first_bad_seq}: {report.reason} "
            f"({report.entries} entries before it verified)",
            "the audit table was changed outside tidegate: find out who and why, restore the "
            "store from a backup, and run `tidegate audit verify`",
        )
    if not report.entries:
        return CheckResult("audit chain", "", "warn", "empty: no entry to verify yet")
    return CheckResult(
        "audit chain",
        "",
        "pass",
        f"intact: {report.entries} entries verified, head {report.head_hash[:16]}…",
    )


def _location(entry: AuditEntry) -> str:
    try:
        return str(json.loads(entry.detail).get("location", ""))
    except (ValueError, AttributeError):
        return ""


def last_run_check(source: str, entries: list[AuditEntry] | None) -> CheckResult:
    if entries is None:
        return CheckResult(
            "last run", source, "fail", "unknown: the store cannot be read", "see the store check"
        )
    events = [e for e in entries if e.source == source and e.event in RUN_EVENTS]
    if not events:
        return CheckResult(
            "last run", source, "fail", "never run against this store", f"`tidegate run {source}`"
        )
    outcome_of_batch = {e.batch_id: e.event for e in events if e.event != "batch_skipped"}
    newest: dict[str, str] = {}
    for e in events:
        event = outcome_of_batch.get(e.batch_id, e.event) if e.event == "batch_skipped" else e.event
        newest[_location(e)] = event
    held = sorted(Path(loc).name for loc, ev in newest.items() if ev == "batch_held")
    rejected = sorted(Path(loc).name for loc, ev in newest.items() if ev == "file_rejected")
    last = events[-1]
    detail = f"last {last.event} at {last.at[:19].replace('T', ' ')}; {len(newest)} file(s)"
    if held:
        return CheckResult(
            "last run",
            source,
            "fail",
            f"{detail}; held (nothing loaded): {', '.join(held)}",
            f"review `tidegate quarantine list --source {source}`, fix the data or the contract "
            f"(max_quarantine_ratio), then `tidegate run {source} --reprocess`",
        )
    if rejected:
        return CheckResult(
            "last run",
            source,
            "warn",
            f"{detail}; unreadable, file-level quarantine: {', '.join(rejected)}",
            "declare the right `encoding:`/`format:` in the pipeline file, then "
            f"`tidegate run {source} --reprocess` (the same bytes are skipped without it); "
            f"a re-exported file (new bytes) loads with `tidegate run {source}`",
        )
    return CheckResult("last run", source, "pass", f"{detail}; every file committed")


APPEND_ONLY_TRIGGERS = frozenset({"audit_append_only", "audit_no_truncate", "audit_chain_link"})


def append_only_check(store: StoreLike, readable: bool) -> CheckResult:
    """Can the audit log be rewritten behind tidegate's back, by whom?"""
    check = "append-only audit"
    if not readable:
        return CheckResult(check, "", "warn", "not checked: the store cannot be read")
    protection = open_store(store).audit_protection(wait_seconds=STORE_WAIT_SECONDS)
    if protection is None:
        return CheckResult(
            check,
            "",
            "warn",
            "a DuckDB file cannot refuse a rewrite of its audit table; the hash chain and a "
            "checkpoint kept elsewhere detect one",
            "keep `tidegate audit checkpoint -o FILE` copies off this host and limit who can "
            "write the file, or move the team to a PostgreSQL store (README, Team setup)",
        )
    role, owns, superuser = protection.role, protection.owns_audit, protection.superuser
    missing = sorted(APPEND_ONLY_TRIGGERS - protection.triggers)
    if missing:
        return CheckResult(
            check,
            "",
            "fail",
            f"trigger(s) missing or disabled on audit: {', '.join(missing)}",
            "run `tidegate store init` as the store's owner to put them back, and find out "
            "who removed them",
        )
    if protection.foreign_objects:
        return CheckResult(
            check,
            "",
            "fail",
            "objects in the store's schema that tidegate did not make: "
            f"{', '.join(sorted(protection.foreign_objects))} (a function or operator named "
            "like a built-in, or a trigger or rule on a table, runs with the privileges of "
            "whoever queries or loads the store, its owner too)",
            "find out who made them and drop them as the store's owner; until then, run "
            "nothing as the owner against this store",
        )
    if protection.unpinned_functions:
        return CheckResult(
            check,
            "",
            "fail",
            "trigger function(s) without a pinned search_path: "
            f"{', '.join(sorted(protection.unpinned_functions))} (a writer's temporary "
            "table named audit would be what they check)",
            "run `tidegate store init` as the store's owner: it renews them, their path "
            "pinned to pg_catalog, the store's schema and pg_temp",
        )
    if owns or superuser:
        why = "is a superuser" if superuser else "owns the audit table"
        return CheckResult(
            check,
            "",
            "warn",
            f"enforced by triggers, but role {role} {why} and could drop them",
            "run flows and reviews as a writer role: as the owner, `tidegate store init "
            "--grant-writer ROLE`, then put that role in TIDEGATE_STORE",
        )
    return CheckResult(
        check,
        "",
        "pass",
        f"enforced by the database: role {role} can append to the audit log but neither "
        "change an entry nor drop the triggers, whose functions pin their search_path",
    )
