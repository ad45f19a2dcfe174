"""Write a source's current contract file (and its GX suite) under an audit entry, for
`tidegate schema promote` and `tidegate schema rollback`.

The source's run lock is held (a run in flight keeps the contract it started with), the
audit entry is appended and each file is replaced atomically inside that entry's
transaction, so a failed write leaves no entry and no half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.cli._common import fail, os_error_line
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store


def suite_ref(text: str) -> str | None:
    """The ``expectations.suite`` a contract text names, or None (text that does not
    parse names none)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    raw = data.get("expectations") if isinstance(data, dict) else None
    ref = raw.get("suite") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and ref.strip() else None


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a reader sees the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tidegate.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_contract_audited(
    store: Store,
    *,
    pipeline: str,
    source: str,
    event: str,
    detail: dict[str, Any],
    actor: str | None,
    files: list[tuple[Path, bytes]],
    verb: str,
) -> int:
    """Append ``event`` for ``source`` and write ``files`` (path, bytes) in its
    transaction, holding ``pipeline``'s run lock; the entry's seq. A run in progress or
    a failed write is one line, exit 2."""
    from tidegate.store import default_actor
    from tidegate.store._contract_versions import record_contract_change

    def write() -> None:
        for path, data in files:
            write_atomically(path, data)

    try:
        with store.source_lock(pipeline, on_busy="skip") as held:
            if not held:
                raise fail(f"a run of {pipeline} is in progress; {verb} once it has ended")
            return record_contract_change(
                store, event, source, detail, actor or default_actor(), write
            )
    except OSError as exc:
        raise fail(os_error_line(exc)) from None
    except TidegateError as exc:
        raise fail(exc) from None
