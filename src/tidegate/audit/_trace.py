"""Follow one record by its primary key: where it came from and what happened to it.

A trace gathers, for one key of one source: the target row if it is loaded (with
its lineage: batch id and line), each batch involved (file, contract version and
hash, the normalizations counted for that batch), every quarantine entry for the
key (matched on the normalized values, the reviewer's edits, or the raw record
through the contract's header mapping), every review action on those entries, and
every line that was an exact duplicate of the key (the ``duplicates`` table: which
line of which batch it repeats).

A record can also be traced by its line (``FILE:LINE`` or ``LINE``,
:func:`trace_line`): the key of what that line became (a duplicate, a loaded row)
is traced as above; a line that became a quarantine entry shows that entry.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tidegate._duplicate_keys import key_text
from tidegate.audit._query import entry_record
from tidegate.errors import AuditQueryError
from tidegate.store import AuditEntry, connect, store_tables
from tidegate.store._audit_log import canonical_json
from tidegate.store._audit_reads import entries_of_batch, review_entries
from tidegate.store._duplicates import duplicates_of_key, duplicates_of_record
from tidegate.store._lookups import (
    checkpoint_of_batch,
    quarantine_at_record,
    quarantine_rows_mentioning,
    target_keys_at_record,
    target_rows_by_key,
)
from tidegate.store._review_audit import narrowed_to, record_details

if TYPE_CHECKING:
    from tidegate.contracts._model import Contract
    from tidegate.store import Store

BATCH_EVENTS = ("batch_committed", "batch_reprocessed", "batch_held", "file_rejected")
_LINE_SPLIT = re.compile(r"[,;\t|]")
_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_]\w*\s*=")  # "order_id=1001", not a bare value


def parse_key(text: str, primary_key: tuple[str, ...] | list[str], source: str) -> dict[str, str]:
    """``1001`` or ``order_id=1001`` for one key column; ``k1=v1,k2=v2`` for several."""
    columns = list(primary_key)
    if not columns:
        raise AuditQueryError(
            f"the contract of {source!r} declares no primary_key, so its records cannot be "
            "traced by key; add `primary_key: [...]` to its schema"
        )
    if len(columns) == 1 and not _ASSIGNMENT.match(text):
        return {columns[0]: text.strip()}
    pairs: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in columns:
            raise AuditQueryError(
                f"key {text!r} does not name the primary key of {source!r}: write it as "
                + ",".join(f"{c}=VALUE" for c in columns)
            )
        pairs[name.strip()] = value.strip()
    missing = [c for c in columns if c not in pairs]
    if missing:
        raise AuditQueryError(
            f"key {text!r} lacks {', '.join(missing)}: the primary key of {source!r} is "
            + ",".join(f"{c}=VALUE" for c in columns)
        )
    return pairs


def _plain(value: Any) -> Any:
    """A value JSON can hold as is (decimals, dates and times become their text)."""
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    return str(value)


@dataclass
class RecordTrace:
    source: str
    key: dict[str, str]
    loaded: list[dict[str, Any]] = field(default_factory=list)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[AuditEntry] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    line: tuple[str | None, int] | None = None  # traced by FILE:LINE: (file, line)

    @property
    def found(self) -> bool:
        return bool(self.loaded or self.quarantine or self.duplicates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "key": self.key,
            "found": self.found,
            "loaded": self.loaded,
            "batches": self.batches,
            "quarantine": self.quarantine,
            "reviews": [entry_record(e) for e in self.reviews],
            "duplicates": self.duplicates,
            **({"line": {"file": self.line[0], "line": self.line[1]}} if self.line else {}),
        }


def _target_rows(con: Any, table: str, key: dict[str, str]) -> list[dict[str, Any]]:
    return [{n: _plain(v) for n, v in row.items()} for row in target_rows_by_key(con, table, key)]


def _matches(row: dict[str, Any], key: dict[str, str], contract: Contract) -> str | None:
    """How a quarantine row matches the key: normalized, edited, raw or raw line; or None."""

    def same(values: dict[str, Any]) -> bool:
        return all(str(values.get(c, "")).strip() == v for c, v in key.items())

    normalized, edited, raw = row["normalized"] or {}, row["edited"] or {}, row["raw"]
    if normalized and same(normalized):
        return "normalized"
    if edited and same({**normalized, **edited}):
        return "edited"
    if isinstance(raw, dict) and set(raw) != {"text"}:
        header_map = _header_map(list(raw), contract)
        if same({column: raw[header] for header, column in header_map.items()}):
            return "raw"
    elif isinstance(raw, dict) and isinstance(raw.get("text"), str):
        tokens = {t.strip().strip('"') for t in _LINE_SPLIT.split(raw["text"])}
        if set(key.values()) <= tokens:
            return "raw line"
    return None


def _quarantine_rows(con: Any, contract: Contract, key: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for row in quarantine_rows_mentioning(con, contract.source, list(key.values())):
        for name in ("raw", "normalized", "edited", "errors"):
            row[name] = json.loads(row[name]) if row[name] else None
        how = _matches(row, key, contract)
        if how is None:
            continue
        raw, normalized = row["raw"], row["normalized"] or {}
        changes, renamed = [], {}
        if isinstance(raw, dict) and normalized:
            for header, column in _header_map(list(raw), contract).items():
                if header != column:
                    renamed[header] = column
                if raw[header] != normalized.get(column):
                    changes.append(
                        {"column": column, "raw": raw[header], "normalized": normalized.get(column)}
                    )
        row = {k: _plain(v) for k, v in row.items()}
        out.append(
            {**row, "matched_on": how, "headers_renamed": renamed, "normalizations": changes}
        )
    return out


def _header_map(headers: list[str], contract: Contract) -> dict[str, str]:
    """Raw header -> contract column, the way normalization mapped them."""
    from tidegate.normalize import match_headers

    return dict(match_headers(headers, contract).header_map)


def _batch_origin(con: Any, batch_id: str, tables: set[str]) -> dict[str, Any]:
    origin: dict[str, Any] = {"batch_id": batch_id}
    checkpoint = checkpoint_of_batch(con, batch_id) if "checkpoints" in tables else None
    if checkpoint is not None:
        origin.update(
            location=checkpoint["location"],
            checkpoint_status=checkpoint["status"],
            contract_version=checkpoint["contract_version"],
            contract_hash=checkpoint["contract_hash"],
            committed_at=str(checkpoint["committed_at"]),
        )
    entries = entries_of_batch(con, batch_id, BATCH_EVENTS)
    if entries:
        last = entries[-1]
        detail = last.detail_dict
        contract = detail.get("contract") or {}
        origin.update(
            event=last.event,
            seq=last.seq,
            at=last.at,
            actor=last.actor,
            location=detail.get("location", origin.get("location")),
            contract_version=contract.get(
                "version", detail.get("contract_version", origin.get("contract_version"))
            ),
            contract_hash=contract.get("hash", origin.get("contract_hash")),
            normalized=detail.get("normalized", {}),
            failures=detail.get("failures", {}),
        )
    return origin


def parse_line(text: str) -> tuple[str | None, int]:
    """``orders.csv:57`` -> ("orders.csv", 57); ``57`` -> (None, 57)."""
    location, sep, number = text.strip().rpartition(":")
    if not number.isdigit() or (sep and not location):
        raise AuditQueryError(
            f"--line {text!r} is not FILE:LINE or LINE; write it as e.g. orders.csv:57 "
            "(the file as in `tidegate audit list`, the line as in `tidegate quarantine list`)"
        )
    return (location or None), int(number)


def trace_line(store: Store, contract: Contract, location: str | None, record: int) -> RecordTrace:
    """What line ``record`` (of file ``location``, or of any file of the source) became:
    the key of a duplicate or a loaded row is traced; a quarantine entry is shown."""
    key_columns = tuple(contract.primary_key)
    with connect(store, read_only=True) as con:
        tables = store_tables(con)
        found = (
            duplicates_of_record(con, contract.source, record, location)
            if ("duplicates" in tables)
            else []
        )
        keys = [json.loads(d["key_values"]) for d in found if d["key_values"]]
        if not keys and key_columns and {"checkpoints", contract.target_table} <= tables:
            rows = target_keys_at_record(
                con, contract.target_table, contract.source, key_columns, record, location
            )
            keys = [{k: str(_plain(v)) for k, v in row.items()} for row in rows]
        quarantine = (
            quarantine_at_record(con, contract.source, record, location)
            if "quarantine" in tables
            else []
        )
    if keys:
        trace = trace_record(store, contract, keys[0])
    else:
        trace = RecordTrace(contract.source, {})
        json_columns = ("raw", "normalized", "edited", "errors")
        trace.quarantine = [
            {
                **{k: _plain(v) for k, v in q.items()},
                **{k: json.loads(q[k]) if q[k] else None for k in json_columns},
                "matched_on": "line",
                "headers_renamed": {},
                "normalizations": [],
            }
            for q in quarantine
        ]
        with connect(store, read_only=True) as con:
            tables = store_tables(con)
            for batch_id in dict.fromkeys(q["batch_id"] for q in trace.quarantine):
                trace.batches[batch_id] = _batch_origin(con, batch_id, tables)
    trace.line = (location, record)
    return trace


def trace_record(store: Store, contract: Contract, key: dict[str, str]) -> RecordTrace:
    """Everything the store knows about one key of ``contract.source``."""
    trace = RecordTrace(contract.source, key)
    with connect(store, read_only=True) as con:
        tables = store_tables(con)
        if "duplicates" in tables and contract.primary_key:
            names = list(contract.primary_key)
            wanted = key_text(names, [key.get(n) for n in names])
            trace.duplicates = [
                {k: _plain(v) for k, v in d.items()}
                for d in duplicates_of_key(con, contract.source, wanted)
            ]
        if contract.target_table in tables:
            trace.loaded = _target_rows(con, contract.target_table, key)
        if "quarantine" in tables:
            trace.quarantine = _quarantine_rows(con, contract, key)
        batch_ids = [r.get("_tidegate_batch_id") for r in trace.loaded]
        batch_ids += [q["batch_id"] for q in trace.quarantine]
        batch_ids += [d["batch_id"] for d in trace.duplicates]
        for batch_id in dict.fromkeys(b for b in batch_ids if b):
            trace.batches[batch_id] = _batch_origin(con, batch_id, tables)
        ids = {q["id"] for q in trace.quarantine}
        if ids and "audit" in tables:
            reviews = review_entries(con, contract.source)
            # a bulk entry (one per page and batch) is shown with only the traced records
            trace.reviews = [
                dataclasses.replace(e, detail=canonical_json(narrowed_to(e.detail_dict, ids)))
                for e in reviews
                if ids & set(record_details(e.detail_dict))
            ]
    return trace
