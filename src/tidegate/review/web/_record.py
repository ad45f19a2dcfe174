"""The record page: raw and normalized side by side, the errors, edit, replay, reject, reveal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from tidegate.contracts import Contract
from tidegate.errors import ReviewConflictError, ReviewError, TidegateError
from tidegate.review import (
    contract_for,
    contracts_by_source,
    edit_record,
    reject_records,
    replay_records,
)
from tidegate.review.web._auth import User
from tidegate.review.web._common import current_user, flash, render, safe_back, state, with_store
from tidegate.review.web._masking import mask_value
from tidegate.review.web._queue import summary_text
from tidegate.rules import UNREADABLE_FILE_RULE
from tidegate.store import append_audit, transaction
from tidegate.store._quarantine import QuarantineRecord, get_records

if TYPE_CHECKING:
    from tidegate.store import Store

router = APIRouter()
FIELD_PREFIX = "col__"
METADATA_KEYS = ("file", "size_bytes")  # raw keys of a file-level entry that hold no data
MAX_REVEALED = 200


def _load(store: Store, record_id: int) -> QuarantineRecord | None:
    if not store.exists():
        return None
    found = get_records(store, [record_id])
    return found[0] if found else None


def _contract(project_dir: Path, source: str) -> Contract | None:
    try:
        return contract_for(contracts_by_source(project_dir), source)
    except ReviewError:
        return None


def _pii_columns(contract: Contract | None) -> list[str]:
    return [c.name for c in contract.columns if c.pii] if contract else []


def _revealed(request: Request, record_id: int) -> bool:
    return record_id in request.session.get("revealed", [])


def _current(record: QuarantineRecord, column: str) -> Any:
    if column in record.edited:
        return record.edited[column]
    return (record.normalized or {}).get(column)


def _header_map(record: QuarantineRecord, contract: Contract | None) -> dict[str, str]:
    """Raw header -> contract column, as normalization matched them."""
    if contract is None:
        return {}
    from tidegate.normalize._headers import match_headers

    try:
        return dict(match_headers(list(record.raw), contract).header_map)
    except Exception:  # a raw record of another shape (row text, file head): no mapping
        return {}


def _view(record: QuarantineRecord, contract: Contract | None, revealed: bool) -> dict[str, Any]:
    """What the template shows, with PII masked unless revealed."""
    pii = set(_pii_columns(contract))
    masking = bool(pii) and not revealed
    failing = record.failing_columns
    headers = _header_map(record, contract)
    by_column = {column: header for header, column in headers.items()}

    def shown(column: str | None, value: Any) -> Any:
        if masking and (column is None or column in pii):
            return mask_value(value)
        return value

    columns = contract.column_names if contract else list((record.normalized or {}) or record.raw)
    rows = []
    for column in columns:
        header = by_column.get(column)
        rows.append(
            {
                "column": column,
                "header": header,
                "raw": shown(column, record.raw.get(header)) if header else None,
                "has_raw": header is not None,
                "normalized": shown(column, (record.normalized or {}).get(column)),
                "edited": column in record.edited,
                "edited_value": shown(column, record.edited.get(column)),
                "failing": column in failing,
                "pii": column in pii,
                "masked": masking and column in pii,
                "input": "" if masking and column in pii else _input_value(record, column),
            }
        )
    unmapped = [
        {"key": key, "value": value if key in METADATA_KEYS else shown(None, value)}
        for key, value in record.raw.items()
        if key not in headers
    ]
    errors = [{**e, "value": shown(e.get("column"), e.get("value"))} for e in record.errors]
    return {
        "rows": rows,
        "unmapped": unmapped,
        "errors": errors,
        "masking": masking,
        "pii": sorted(pii),
    }


def _input_value(record: QuarantineRecord, column: str) -> str:
    value = _current(record, column)
    return "" if value is None else str(value)


async def _page(
    request: Request,
    record_id: int,
    *,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> Response:
    app = state(request)
    record = await with_store(request, _load, app.store, record_id)
    if record is None:
        return render(
            request,
            "error.html",
            {"title": "Not found", "back": "/"},
            status_code=404,
            messages=[("error", f"no quarantine record with id {record_id}")],
        )
    contract = _contract(app.project_dir, record.source)
    revealed = _revealed(request, record_id)
    return render(
        request,
        "record.html",
        {
            "record": record,
            "contract": contract,
            "view": _view(record, contract, revealed),
            "revealed": revealed,
            "replayable": UNREADABLE_FILE_RULE not in record.rules,
            "back": safe_back(request.query_params.get("back")),
        },
        status_code=status_code,
        messages=messages,
    )


@router.get("/records/{record_id}")
async def record_page(
    request: Request, record_id: int, user: User = Depends(current_user)
) -> Response:
    return await _page(request, record_id)


def _version(form: FormData) -> int:
    try:
        return int(str(form.get("version", "")))
    except ValueError:
        raise ReviewError("the form has no record version; reload the record") from None


def _record_url(record_id: int, back: str) -> str:
    from urllib.parse import urlencode

    return (
        f"/records/{record_id}?" + urlencode({"back": back})
        if back != "/"
        else f"/records/{record_id}"
    )


async def _failed(request: Request, record_id: int, exc: TidegateError, note: str = "") -> Response:
    if isinstance(exc, ReviewConflictError):
        return await _page(
            request, record_id, status_code=409, messages=[("error", f"conflict: {exc}{note}")]
        )
    return await _page(request, record_id, status_code=400, messages=[("error", str(exc))])


def _changes(
    record: QuarantineRecord, contract: Contract, form: FormData, masked: bool
) -> dict[str, str | None]:
    pii = set(_pii_columns(contract))
    changes: dict[str, str | None] = {}
    for column in contract.column_names:
        submitted = form.get(FIELD_PREFIX + column)
        if submitted is None:
            continue
        text = str(submitted)
        if masked and column in pii:
            if text:  # a masked value was typed over; empty means unchanged
                changes[column] = text
            continue
        current = _current(record, column)
        current_text = "" if current is None else str(current)
        # an <input> drops newlines: a value that only lost them was not edited
        if text in (current_text, current_text.replace("\r", "").replace("\n", "")):
            continue
        changes[column] = text if text != "" else None
    return changes


@router.post("/records/{record_id}/edit")
async def edit(request: Request, record_id: int, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    app = state(request)
    back = safe_back(str(form.get("back", "/")))
    changes: dict[str, str | None] = {}
    try:
        version = _version(form)
        record = await with_store(request, _load, app.store, record_id)
        if record is None:
            raise ReviewError(f"no quarantine record with id {record_id}")
        contract = contract_for(contracts_by_source(app.project_dir), record.source)
        changes = _changes(record, contract, form, not _revealed(request, record_id))
        if not changes:
            flash(request, "info", f"record {record_id}: nothing changed")
            return RedirectResponse(_record_url(record_id, back), status_code=303)
        updated = await with_store(
            request,
            edit_record,
            app.store,
            record_id,
            changes,
            contract,
            actor=user.name,
            expected_version=version,
        )
    except TidegateError as exc:
        note = f"; your change to {', '.join(sorted(changes))} was not saved" if changes else ""
        return await _failed(request, record_id, exc, note)
    flash(
        request,
        "ok",
        f"record {record_id} saved ({', '.join(sorted(changes))} edited; version "
        f"{updated.version}); replay it to load it",
    )
    return RedirectResponse(_record_url(record_id, back), status_code=303)


@router.post("/records/{record_id}/replay")
async def replay(request: Request, record_id: int, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    app = state(request)
    back = safe_back(str(form.get("back", "/")))
    try:
        version = _version(form)
        summary = await with_store(
            request,
            replay_records,
            app.store,
            [record_id],
            contracts_by_source(app.project_dir),
            actor=user.name,
            expected_versions={record_id: version},
        )
    except TidegateError as exc:
        return await _failed(request, record_id, exc)
    if summary.loaded:
        flash(request, "ok", f"record {record_id} loaded")
        return RedirectResponse(back, status_code=303)
    if summary.still_failing:
        record = await with_store(request, _load, app.store, record_id)
        rules = ", ".join(record.rules) if record else "?"
        flash(request, "warn", f"record {record_id} still failing: {rules}")
    else:
        flash(request, "warn", summary_text(summary))
    return RedirectResponse(_record_url(record_id, back), status_code=303)


@router.post("/records/{record_id}/reject")
async def reject(request: Request, record_id: int, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    app = state(request)
    back = safe_back(str(form.get("back", "/")))
    try:
        version = _version(form)
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise ReviewError("a reject needs a reason: type why this record is dropped")
        await with_store(
            request,
            reject_records,
            app.store,
            [record_id],
            reason,
            actor=user.name,
            expected_versions={record_id: version},
        )
    except TidegateError as exc:
        return await _failed(request, record_id, exc)
    flash(request, "ok", f"record {record_id} rejected")
    return RedirectResponse(back, status_code=303)


def _audit_reveal(store: Store, record: QuarantineRecord, columns: list[str], actor: str) -> None:
    with transaction(store) as con:
        append_audit(
            con,
            "pii_revealed",
            {"id": record.id, "columns": columns},
            source=record.source,
            batch_id=record.batch_id,
            actor=actor,
        )


@router.post("/records/{record_id}/reveal")
async def reveal(request: Request, record_id: int, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    app = state(request)
    back = safe_back(str(form.get("back", "/")))
    record = await with_store(request, _load, app.store, record_id)
    if record is None:
        return await _page(request, record_id)
    columns = _pii_columns(_contract(app.project_dir, record.source))
    if columns and not _revealed(request, record_id):
        await with_store(request, _audit_reveal, app.store, record, columns, user.name)
        revealed = [*request.session.get("revealed", []), record_id]
        request.session["revealed"] = revealed[-MAX_REVEALED:]
        flash(
            request, "info", f"PII revealed for record {record_id} ({', '.join(columns)}); audited"
        )
    return RedirectResponse(_record_url(record_id, back), status_code=303)


@router.post("/records/{record_id}/hide")
async def hide(request: Request, record_id: int, user: User = Depends(current_user)) -> Response:
    form = await request.form()
    request.session["revealed"] = [i for i in request.session.get("revealed", []) if i != record_id]
    return RedirectResponse(
        _record_url(record_id, safe_back(str(form.get("back", "/")))), status_code=303
    )
