"""The ``contract_versions`` table: every contract text that ever committed a batch.

One row per ``(source, content_hash)``: the version number the text declares, the text
itself (and the text of the GX suite it names, which the content hash covers), when
and by which batch it first committed. A row is written inside the commit transaction
of the batch (:func:`record_contract_version`, called by
:func:`tidegate.store._batches.record_commit`) when it is not there yet, and never
changed after, so any batch can be traced to the exact text it was validated under
(its checkpoint and audit entry carry the hash). `tidegate schema history`, `diff` and
`rollback` read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidegate.store._connect import fetch_one, read_if_made
from tidegate.store._tables import is_postgres_connection, store_tables

if TYPE_CHECKING:
    from tidegate.contracts._model import Contract
    from tidegate.store._protocol import StoreLike

CONTRACT_VERSIONS_DDL = """
CREATE TABLE IF NOT EXISTS contract_versions (
    source VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    contract_text VARCHAR NOT NULL,
    suite_path VARCHAR,
    suite_text VARCHAR,
    first_committed_at TIMESTAMP NOT NULL,
    first_batch_id VARCHAR NOT NULL,
    PRIMARY KEY (source, content_hash)
);
"""
_COLUMNS = (
    "source, content_hash, version, contract_text, suite_path, suite_text, "
    "first_committed_at, first_batch_id"
)


@dataclass(frozen=True)
class ContractVersion:
    """One recorded contract text, and how many batches committed under it."""

    source: str
    content_hash: str
    version: int
    contract_text: str
    suite_path: str | None
    suite_text: str | None
    first_committed_at: datetime
    first_batch_id: str
    batches: int = 0  # checkpoints (committed, held or since replaced) carrying the hash


def ensure_contract_versions_table(con: Any) -> None:
    """Make the table unless it is there (a store made before it existed gets it here)."""
    if is_postgres_connection(con):
        made = con.execute("SELECT to_regclass('contract_versions') IS NOT NULL").fetchall()
        if made and made[0][0]:
            return
    con.execute(CONTRACT_VERSIONS_DDL)


def record_contract_version(con: Any, contract: Contract, batch_id: str) -> dict[str, Any] | None:
    """Record ``contract``'s text unless its hash is recorded already (inside the caller's
    commit transaction). When its version number is recorded under another text,
    ``{"version": N, "previous_hash": <that text's hash>}``: the file changed without a
    version bump."""
    from tidegate.store._row_writes import utc_now

    ensure_contract_versions_table(con)
    other = fetch_one(
        con,
        "SELECT content_hash FROM contract_versions WHERE source = ? AND version = ? "
        "AND content_hash <> ? ORDER BY first_committed_at DESC LIMIT 1",
        [contract.source, contract.version, contract.content_hash],
    )
    known = fetch_one(
        con,
        "SELECT count(*) FROM contract_versions WHERE source = ? AND content_hash = ?",
        [contract.source, contract.content_hash],
    )
    if not (known and known[0]):
        suite = contract.expectations
        con.execute(
            f"INSERT INTO contract_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                contract.source,
                contract.content_hash,
                contract.version,
                contract.text,
                suite.path if suite else None,
                suite.text if suite else None,
                utc_now(),
                batch_id,
            ],
        )
    if other is None:
        return None
    return {"version": contract.version, "previous_hash": str(other[0])}


def unbumped_warning(contract: Contract, previous_hash: str) -> str:
    """The run's warning line for a contract changed without a version bump."""
    return (
        f"contract {contract.source} v{contract.version} changed without a version bump "
        f"(hash {contract.content_hash[:12]}, recorded before as {previous_hash[:12]}); "
        f"bump `version:` in {contract.path} when you change it"
    )


def versions_of(con: Any, source: str) -> list[ContractVersion]:
    """The recorded versions of ``source``, oldest first, each with its batch count."""
    if "contract_versions" not in store_tables(con):
        return []
    rows = con.execute(
        f"SELECT {_COLUMNS}, (SELECT count(*) FROM checkpoints c WHERE c.source = v.source "
        "AND c.contract_hash = v.content_hash) FROM contract_versions v WHERE v.source = ? "
        "ORDER BY first_committed_at, content_hash",
        [source],
    ).fetchall()
    return [
        ContractVersion(
            source=str(r[0]),
            content_hash=str(r[1]),
            version=int(r[2]),
            contract_text=str(r[3]),
            suite_path=r[4],
            suite_text=r[5],
            first_committed_at=r[6],
            first_batch_id=str(r[7]),
            batches=int(r[8] or 0),
        )
        for r in rows
    ]


def read_versions(store: StoreLike, source: str) -> list[ContractVersion]:
    """:func:`versions_of`, on a read-only connection of its own."""
    with read_if_made(store) as con:
        return [] if con is None else versions_of(con, source)


def sources_with_versions(store: StoreLike) -> list[str]:
    """Every source with a recorded version (for a message naming what exists)."""
    with read_if_made(store) as con:
        if con is None or "contract_versions" not in store_tables(con):
            return []
        rows = con.execute(
            "SELECT DISTINCT source FROM contract_versions ORDER BY source"
        ).fetchall()
        return [str(r[0]) for r in rows]


def unbumped_versions(versions: list[ContractVersion]) -> dict[int, list[ContractVersion]]:
    """The version numbers recorded under more than one text (changed without a bump)."""
    by_number: dict[int, list[ContractVersion]] = {}
    for v in versions:
        by_number.setdefault(v.version, []).append(v)
    return {n: vs for n, vs in by_number.items() if len(vs) > 1}


def record_contract_change(
    store: StoreLike,
    event: str,
    source: str,
    detail: dict[str, Any],
    actor: str,
    write: Callable[[], None],
) -> int:
    """Append ``event`` (``contract_promoted``, ``contract_rolled_back``) and, in the same
    transaction, ``write`` the contract's new text (a failed write leaves no entry); the
    entry's seq."""
    from tidegate.store._audit_log import append_audit
    from tidegate.store._connect import transaction
    from tidegate.store._tables import ensure_store_tables

    with transaction(store) as con:
        ensure_store_tables(con)
        entry = append_audit(con, event, detail, source=source, actor=actor)
        write()
    return entry.seq
