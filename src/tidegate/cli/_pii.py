"""PII on a CLI user's screen: masked as on the web page unless ``--reveal``, and a
reveal is an audit entry (``pii_revealed``: the actor and OS user, which records or
audit entries, which columns), as it is on the web page."""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported where used: `tidegate --help` loads this module too
    from tidegate.contracts import Contract
    from tidegate.store import Store
    from tidegate.store._audit_log import AuditEntry
    from tidegate.store._quarantine import QuarantineRecord

RevealOpt = Annotated[
    bool,
    typer.Option(
        "--reveal",
        help="Show PII column values in clear (masked otherwise); the reveal is audited.",
    ),
]
METADATA_KEYS = ("file", "size_bytes")  # raw keys of a file-level entry that hold no data


def pii_columns(contract: Contract | None) -> list[str]:
    return sorted(c.name for c in contract.columns if c.pii) if contract else []


def masked_record(record: QuarantineRecord, contract: Contract | None) -> QuarantineRecord:
    """The record with its PII values masked: raw (by header), normalized, edited, errors.

    A raw value whose header matches no column is masked too when the contract has PII
    (the web page does the same): it may be a PII column under a drifted header.
    """
    pii = set(pii_columns(contract))
    if not pii or contract is None:
        return record
    from tidegate.normalize._headers import match_headers
    from tidegate.review._masking import mask_value

    try:
        headers = dict(match_headers(list(record.raw), contract).header_map)
    except Exception:  # a raw record of another shape (row text, file head): no mapping
        headers = {}

    def raw_value(key: str, value: Any) -> Any:
        column = headers.get(key)
        if column is None:
            return value if key in METADATA_KEYS else mask_value(value)
        return mask_value(value) if column in pii else value

    def by_column(values: dict[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return {c: mask_value(v) if c in pii else v for c, v in values.items()}

    return dataclasses.replace(
        record,
        raw={k: raw_value(k, v) for k, v in record.raw.items()},
        normalized=by_column(record.normalized),
        edited=by_column(record.edited) or {},
        errors=[
            {**e, "value": mask_value(e.get("value"))} if e.get("column") in pii else e
            for e in record.errors
        ],
    )


def mask_records(
    records: Sequence[QuarantineRecord], contracts: dict[str, Contract]
) -> list[QuarantineRecord]:
    return [masked_record(r, contracts.get(r.source)) for r in records]


def revealed_columns(
    records: Sequence[QuarantineRecord], contracts: dict[str, Contract]
) -> dict[str, list[str]]:
    """Per source of ``records``, the PII columns a reveal shows (sources without any left out)."""
    out: dict[str, list[str]] = {}
    for r in records:
        columns = pii_columns(contracts.get(r.source))
        if columns:
            out[r.source] = columns
    return out


def audit_reveal(store: Store, command: str, what: dict[str, Any]) -> None:
    """One ``pii_revealed`` entry: who (the actor and the OS user), the command and what."""
    from tidegate.store import append_audit, default_actor, transaction
    from tidegate.store._tables import ensure_store_tables

    try:
        os_user = getpass.getuser()
    except Exception:
        os_user = None
    with transaction(store) as con:
        ensure_store_tables(con)
        append_audit(
            con,
            "pii_revealed",
            {**what, "via": command, "os_user": os_user},
            actor=default_actor(),
        )


def reveal_records(
    store: Store,
    command: str,
    records: Sequence[QuarantineRecord],
    contracts: dict[str, Contract],
) -> None:
    """Audit a reveal of ``records`` (only those whose contract has PII columns)."""
    columns = revealed_columns(records, contracts)
    shown = [r.id for r in records if r.source in columns]
    if shown:
        audit_reveal(store, command, {"ids": shown, "columns": columns})


def open_entries(store: Store, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Audit entries with their sealed PII values decrypted (or marked erased), and the
    reveal audited when any entry held one."""
    from tidegate.store._audit_log import canonical_json
    from tidegate.store._connect import read_if_made
    from tidegate.store._pii_keys import key_materials
    from tidegate.store._pii_seal import open_detail, sealed_key_ids

    sealed = {e.seq: sealed_key_ids(e.detail_dict) for e in entries}
    if not any(sealed.values()):
        return list(entries)
    with read_if_made(store) as con:
        materials = key_materials(con) if con is not None else {}
    opened = [
        dataclasses.replace(e, detail=canonical_json(open_detail(e.detail_dict, materials)))
        if sealed[e.seq]
        else e
        for e in entries
    ]
    keys = sorted(set().union(*sealed.values()))
    audit_reveal(
        store,
        "audit show --reveal",
        {
            "seqs": [s for s, k in sealed.items() if k],
            "keys": keys,
            "erased_keys": [k for k in keys if materials.get(k) is None],
        },
    )
    return opened


def dumps_record(record: QuarantineRecord) -> str:
    return json.dumps(record.as_dict(), default=str)
