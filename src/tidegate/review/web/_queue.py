"""The queue page: counts by rule and status, filters, one page of records, bulk actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from tidegate.errors import ReviewConflictError, ReviewError, SelectionChanged, TidegateError
from tidegate.review import contracts_by_source, reject_records, replay_records
from tidegate.review.web._auth import User
from tidegate.review.web._common import (
    current_user,
    flash,
    render,
    safe_back,
    state,
    with_store,
)
from tidegate.store._quarantine import (
    STATUSES,
    QuarantineFilter,
    count_by_rule_and_status,
    list_records,
    matching_ids,
)

if TYPE_CHECKING:
    from tidegate.store import Store

PAGE_SIZE = 50
COUNT_CAP = 10_000  # a page counts its matches this far beyond it ("more than ...")
ACTION_CHUNK = 5000
router = APIRouter()


@dataclass(frozen=True)
class QueueParams:
    """The queue's filters as they travel in a URL (the CLI's filters, plus the page)."""

    source: str = ""
    rule: str = ""
    column: str = ""
    status: str = "pending"  # "any" for every status
    batch: str = ""
    since: str = ""
    until: str = ""
    page: int = 1
    after: int | None = None  # keyset paging: the records after this id (the "Next" link)

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> QueueParams:
        def text(name: str, default: str = "") -> str:
            value = values.get(name)
            return str(value).strip() if value is not None else default

        try:
            page = max(int(text("page", "1") or 1), 1)
        except ValueError:
            page = 1
        try:
            after: int | None = max(int(text("after")), 0) if text("after") else None
        except ValueError:
            after = None
        return cls(
            source=text("source"),
            rule=text("rule"),
            column=text("column"),
            status=text("status", "pending") or "pending",
            batch=text("batch"),
            since=text("since"),
            until=text("until"),
            page=page,
            after=after,
        )

    def to_filter(self) -> QuarantineFilter:
        if self.status not in (*STATUSES, "any"):
            raise ReviewError(
                f"status {self.status!r} is not valid; expected one of {', '.join(STATUSES)} or any"
            )
        return QuarantineFilter(
            source=self.source or None,
            rule=self.rule or None,
            column=self.column or None,
            status=None if self.status == "any" else self.status,
            batch=self.batch or None,
            since=_when("since", self.since),
            until=_when("until", self.until),
        )

    def filters(self) -> dict[str, str]:
        """The non-empty filters, without the page."""
        out = {k: str(v) for k, v in asdict(self).items() if k not in ("page", "after") and v}
        if out.get("status") == "pending":
            del out["status"]
        return out

    def url(self, **changes: Any) -> str:
        params = replace(self, **changes)
        query = params.filters()
        if params.page > 1:
            query["page"] = str(params.page)
        if params.after is not None:
            query["after"] = str(params.after)
        return "/?" + urlencode(query) if query else "/"


def _when(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ReviewError(
            f"{name} {value!r} is not a date or time; use e.g. 2024-01-31 or 2024-01-31T08:00"
        ) from None


def _queue_data(store: Store, params: QueueParams, flt: QuarantineFilter) -> dict[str, Any]:
    if not store.exists():
        return {"records": [], "total": 0, "counts": [], "no_store": True, "more": False}
    if params.after is not None:  # a "Next" page: keyset, and no count of it all again
        records, _ = list_records(store, flt, limit=PAGE_SIZE, after=params.after, count=False)
        more = len(records) == PAGE_SIZE
        return {"records": records, "total": 0, "counts": [], "no_store": False, "more": more}
    offset = (params.page - 1) * PAGE_SIZE
    records, total = list_records(
        store, flt, limit=PAGE_SIZE, offset=offset, count_cap=offset + COUNT_CAP
    )
    counts = count_by_rule_and_status(store, replace(flt, status=None))
    more = offset + len(records) < total
    capped = total > offset + COUNT_CAP  # "more than": the count stopped there
    return {
        "records": records,
        "total": offset + COUNT_CAP if capped else total,
        "capped": capped,
        "counts": counts,
        "no_store": False,
        "more": more,
    }


def _count_table(counts: list[tuple[str, str, str, int]]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for source, rule, status, n in counts:
        row = rows.setdefault((source, rule), {"source": source, "rule": rule})
        row[status] = n
    return list(rows.values())


@router.get("/")
async def queue(request: Request, user: User = Depends(current_user)) -> Response:
    params = QueueParams.parse(request.query_params)
    status_code, messages = 200, []
    try:
        flt = params.to_filter()
    except ReviewError as exc:
        status_code, messages = 400, [("error", str(exc))]
        params, flt = QueueParams(), QueueParams().to_filter()
    app = state(request)
    try:
        data = await with_store(request, _queue_data, app.store, params, flt)
    except TidegateError as exc:
        data = {"records": [], "total": 0, "counts": [], "no_store": True, "more": False}
        status_code, messages = 503, [("error", str(exc))]
    pages = max((data["total"] + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    sources = sorted(set(contracts_by_source(app.project_dir)) | {c[0] for c in data["counts"]})
    return render(
        request,
        "queue.html",
        {
            **data,
            "params": params,
            "pages": pages,
            "count_rows": _count_table(data["counts"]),
            "statuses": STATUSES,
            "sources": sources,
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
        status_code=status_code,
        messages=messages,
    )


def _selection(values: list[str]) -> dict[int, int]:
    """Checkbox values ``id:version`` -> {id: version}."""
    out: dict[int, int] = {}
    for value in values:
        try:
            id_text, _, version = value.partition(":")
            out[int(id_text)] = int(version)
        except ValueError:
            raise ReviewError(f"bad selection {value!r}; reload the queue") from None
    return out


def summary_text(summary: Any) -> str:
    parts = [f"{summary.loaded} loaded", f"{summary.still_failing} still failing"]
    if summary.loaded_ids and len(summary.loaded_ids) <= 10:
        parts[0] += f" (record {', '.join(map(str, summary.loaded_ids))})"
    if summary.failing_ids and len(summary.failing_ids) <= 10:
        parts[1] += f" (record {', '.join(map(str, summary.failing_ids))})"
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped (not pending)")
    if summary.not_replayable:
        parts.append(f"{len(summary.not_replayable)} file-level entries cannot be replayed")
    if summary.conflicts:
        parts.append(
            f"conflict on record {', '.join(map(str, summary.conflicts))}: another reviewer "
            "changed them first; reload and try again"
        )
    return "replay: " + ", ".join(parts)


def _action_error(request: Request, exc: TidegateError, back: str) -> Response:
    code = 409 if isinstance(exc, ReviewConflictError | SelectionChanged) else 400
    prefix = "conflict: " if code == 409 else ""
    return render(
        request,
        "error.html",
        {"title": "Conflict" if code == 409 else "Not done", "back": back},
        status_code=code,
        messages=[("error", prefix + str(exc))],
    )


@router.post("/bulk/{action}")
async def bulk(request: Request, action: str, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    back = safe_back(str(form.get("back", "/")))
    app = state(request)
    try:
        selection = _selection([str(v) for v in form.getlist("sel")])
        if not selection:
            raise ReviewError("nothing selected: tick the records first")
        if action == "replay":
            contracts = contracts_by_source(app.project_dir)
            summary = await with_store(
                request,
                replay_records,
                app.store,
                list(selection),
                contracts,
                actor=user.name,
                expected_versions=selection,
            )
            flash(request, "warn" if summary.conflicts else "ok", summary_text(summary))
        elif action == "reject":
            reason = str(form.get("reason", "")).strip()
            if not reason:
                raise ReviewError("a reject needs a reason: type why these records are dropped")
            n = await with_store(
                request,
                reject_records,
                app.store,
                list(selection),
                reason,
                actor=user.name,
                expected_versions=selection,
            )
            flash(request, "ok", f"{n} record(s) rejected")
        else:
            return render(request, "error.html", {"title": "Not found"}, status_code=404)
    except TidegateError as exc:
        return _action_error(request, exc, back)
    return RedirectResponse(back, status_code=303)


@router.get("/all/{action}")
async def confirm_all(
    request: Request, action: str, user: User = Depends(current_user)
) -> Response:
    """Confirmation page for acting on every pending record that matches the filter."""
    if action not in ("replay", "reject"):
        return render(request, "error.html", {"title": "Not found"}, status_code=404)
    params = replace(QueueParams.parse(request.query_params), status="pending", page=1)
    try:
        flt = params.to_filter()
        _, total = await with_store(request, list_records, state(request).store, flt, limit=0)
    except TidegateError as exc:
        return _action_error(request, exc, params.url())
    return render(
        request,
        "confirm.html",
        {"action": action, "params": params, "total": total, "back": params.url()},
    )


@router.post("/all/{action}")
async def act_on_all(request: Request, action: str, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    params = replace(QueueParams.parse(form), status="pending", page=1)
    back = params.url()
    app = state(request)
    try:
        if action not in ("replay", "reject"):
            raise ReviewError(f"unknown action {action!r}")
        flt = params.to_filter()
        ids = await with_store(request, matching_ids, app.store, flt)
        confirmed = str(form.get("confirm_total", ""))
        if confirmed != str(len(ids)):
            raise SelectionChanged(
                f"the selection changed since you confirmed it ({confirmed} then, {len(ids)} now); "
                "review the queue and confirm again"
            )
        if action == "replay":
            summary = await with_store(
                request,
                replay_records,
                app.store,
                ids,
                contracts_by_source(app.project_dir),
                actor=user.name,
            )
            flash(request, "warn" if summary.conflicts else "ok", summary_text(summary))
        else:
            reason = str(form.get("reason", "")).strip()
            if not reason:
                raise ReviewError("a reject needs a reason: type why these records are dropped")
            done = 0
            for start in range(0, len(ids), ACTION_CHUNK):
                done += await with_store(
                    request,
                    reject_records,
                    app.store,
                    ids[start : start + ACTION_CHUNK],
                    reason,
                    actor=user.name,
                )
            flash(request, "ok", f"{done} record(s) rejected")
    except TidegateError as exc:
        return _action_error(request, exc, back)
    return RedirectResponse(back, status_code=303)
