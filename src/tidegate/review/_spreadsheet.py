"""The spreadsheet round-trip: export pending records as CSV, check a fixed file before
anything is applied (all of it, or nothing), and say what is wrong line by line."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.contracts import Contract
from tidegate.review._lifecycle import current_values
from tidegate.review._masking import mask_value
from tidegate.store._quarantine import QuarantineRecord, get_records

if TYPE_CHECKING:
    from tidegate.store import Store

META = ("id", "version", "source", "location", "record", "rules", "errors")
READ_ONLY = ("source", "location", "record", "rules", "errors")

Edits = dict[int, tuple[int | None, dict[str, str | None]]]

# A cell a spreadsheet would run as a formula starts with one of = + - @ tab CR (OWASP
# CSV injection); an export prefixes such a cell with a single quote, and also a cell
# that already starts with quotes before one of them, so that the import can take
# exactly one quote off again: every value survives the round trip (-5 stays -5).
FORMULA_START = r"^('*[=+\-@\t\r])"
NEUTRALISED = r"^'('*[=+\-@\t\r])"
NEUTRALISED_NOTICE = (
    "{n} cell(s) starting with = + - @ tab or CR are prefixed with ' so that a spreadsheet "
    "shows them as text, not formulas (OWASP CSV injection); `tidegate quarantine import` "
    "takes the ' off again, so an unchanged cell keeps its value"
)


def neutralised(rows: list[dict[str, str]], header: list[str]) -> tuple[list[dict[str, str]], int]:
    """``rows`` with every cell a spreadsheet would run as a formula prefixed with ``'``,
    and how many cells were."""
    return _rewritten(rows, header, FORMULA_START, "'${1}")


def restored(rows: list[dict[str, str]], header: list[str]) -> list[dict[str, str]]:
    """``rows`` of an imported export with the ``'`` that :func:`neutralised` added taken
    off (a cell without it, typed in the spreadsheet, is kept as it is)."""
    return _rewritten(rows, header, NEUTRALISED, "${1}")[0]


def _rewritten(
    rows: list[dict[str, str]], header: list[str], pattern: str, replacement: str
) -> tuple[list[dict[str, str]], int]:
    import polars as pl

    names = [h for h in header if h is not None]
    if not rows or not names:
        return rows, 0
    frame = pl.DataFrame(
        {name: [row.get(name) for row in rows] for name in names},
        schema={name: pl.String for name in names},
    )
    count = frame.select(pl.sum_horizontal(pl.all().str.contains(pattern).sum())).item()
    frame = frame.with_columns(pl.all().str.replace(pattern, replacement))
    new_rows = [{**row, **new} for row, new in zip(rows, frame.iter_rows(named=True), strict=True)]
    return new_rows, int(count or 0)


def export_header(contract: Contract) -> list[str]:
    return [*META, *contract.column_names]


def export_row(
    record: QuarantineRecord, contract: Contract, *, masked: bool = False
) -> dict[str, str]:
    """One CSV row: the record's identity and reasons (read-only), then its current values
    (with ``masked``, its PII values masked; an import takes a masked cell as unchanged)."""
    values = current_values(record, contract)
    if masked:
        values = {
            c.name: mask_value(values[c.name]) if c.pii else values[c.name]
            for c in contract.columns
        }
    row = {
        "id": str(record.id),
        "version": str(record.version),
        "source": record.source,
        "location": record.location or "",
        "record": "" if record.record is None else str(record.record),
        "rules": ",".join(record.rules),
        "errors": "; ".join(f"{e['rule']}: {e['message']}" for e in record.errors),
    }
    row.update({c: "" if values[c] is None else str(values[c]) for c in contract.column_names})
    return row


def plan_import(
    store: Store, file: Path, contracts: dict[str, Contract]
) -> tuple[Edits, list[tuple[int, str]]]:
    """The edits a fixed export asks for, and every problem with it as ``(line, message)``."""
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        rows = restored(list(reader), list(header))
    problems: list[tuple[int, str]] = []
    for needed in ("id", "version", "source"):
        if needed not in header:
            problems.append(
                (
                    1,
                    f"column {needed!r} is missing; import a file written by "
                    "`tidegate quarantine export`",
                )
            )
    if problems:
        return {}, problems
    ids: list[int] = []
    for line, row in enumerate(rows, start=2):
        try:
            ids.append(int(row["id"]))
        except (TypeError, ValueError):
            problems.append((line, f"id {row.get('id')!r} is not a record id"))
    records = {r.id: r for r in get_records(store, ids)} if ids else {}
    edits: Edits = {}
    for line, row in enumerate(rows, start=2):
        try:
            record_id = int(row["id"])
        except (TypeError, ValueError):
            continue
        record = records.get(record_id)
        if record is None:
            problems.append((line, f"id {record_id} does not exist"))
            continue
        contract = contracts.get(record.source)
        if contract is None:
            problems.append((line, f"source {record.source!r} has no contract in schemas/"))
            continue
        allowed = set(META) | set(contract.column_names)
        for extra in sorted(set(header) - allowed):
            problems.append(
                (
                    line,
                    f"column {extra!r} may not be imported (allowed: "
                    f"{', '.join(contract.column_names)})",
                )
            )
        if record.status != "pending":
            problems.append((line, f"id {record_id} is {record.status}, not pending"))
        if str(record.version) != (row.get("version") or "").strip():
            problems.append(
                (
                    line,
                    f"id {record_id} is at version {record.version}, the file has "
                    f"{row.get('version')!r}: someone changed it since the export",
                )
            )
        exported = export_row(record, contract)
        masked = export_row(record, contract, masked=True)
        for column in READ_ONLY:
            if column in row and row[column] != exported[column]:
                problems.append(
                    (line, f"{column} may not change ({exported[column]!r} -> {row[column]!r})")
                )
        changes: dict[str, str | None] = {
            c: row[c]
            for c in contract.column_names
            if c in row and row[c] not in (exported[c], masked[c])  # a masked PII cell: kept
        }
        if changes:
            edits[record_id] = (record.version, changes)
    return edits, problems
