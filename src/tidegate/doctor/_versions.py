"""Readiness check over the recorded contract versions: a version number the store
holds under two different texts means a contract file changed without a version bump,
so ``version:`` no longer says which rules a batch was judged by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidegate.doctor._model import CheckResult
from tidegate.errors import TidegateError

if TYPE_CHECKING:
    from tidegate.contracts._model import Contract
    from tidegate.store import StoreLike

CHECK = "contract versions"


def versions_check(name: str, contract: Contract, store: StoreLike, readable: bool) -> CheckResult:
    """Warn when a version number of the contract's source committed under two texts."""
    from tidegate.store import open_store
    from tidegate.store._contract_versions import read_versions, unbumped_versions

    store = open_store(store)
    if not readable:
        return CheckResult(CHECK, name, "warn", "not checked: the store cannot be read")
    errors: tuple[type[Exception], ...] = (TidegateError, *store.driver_errors())
    try:
        versions = read_versions(store, contract.source)
    except errors as exc:
        return CheckResult(CHECK, name, "warn", f"not checked: {exc}")
    unbumped = unbumped_versions(versions)
    if not unbumped:
        return CheckResult(
            CHECK, name, "pass", f"{len(versions)} recorded, each version number one text"
        )
    number, same = next(iter(unbumped.items()))
    hashes = ", ".join(v.content_hash[:12] for v in same)
    return CheckResult(
        CHECK,
        name,
        "warn",
        f"version {number} of {contract.source} committed batches under {len(same)} different "
        f"texts ({hashes}): the contract changed without a version bump",
        f"bump `version:` in {contract.path} whenever it changes; "
        f"`tidegate schema history {contract.source}` lists them",
    )
