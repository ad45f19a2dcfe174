"""tidegate: contracts, quarantine and a hash-chained audit trail for data pipelines.

Data moves one way: ``sources -> normalize -> validate -> route -> store``; the engine
(:mod:`tidegate.engine`) runs one batch through them, the Prefect flow wraps it.

The public API, pinned by ``tests/test_public_api.py``::

    import tidegate

    contract = tidegate.load_contract("schemas/orders.yaml")
    verdict = contract.validate(frame)            # no store: valid rows, quarantine, counts
    store = tidegate.open_store(".tidegate/tidegate.duckdb")   # or "postgresql://..."
    result = tidegate.Pipeline(source="data/*.csv", contract=contract, store=store).run()
    what_if = tidegate.recheck(store, "schemas/orders.v2.yaml")   # the quarantine, unchanged

``import tidegate`` is light: each name imports what it needs on first use (Prefect
only for :func:`ingest_flow` and :mod:`tidegate.tasks`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tidegate.batches import FileReject, RawBatch
    from tidegate.contracts import Contract, ContractDiff, contract_from_dict, load_contract
    from tidegate.engine import (
        EXIT_DATA_HELD,
        EXIT_FAILED,
        EXIT_OK,
        Pipeline,
        RunResult,
        ShadowVerdict,
        Verdict,
    )
    from tidegate.errors import TidegateError
    from tidegate.review import RecheckResult, recheck
    from tidegate.sources import FileSource, MemorySource, Source
    from tidegate.store import BatchOutcome, Store, open_store

# name -> the module it lives in
_NAMES = {
    "BatchOutcome": "tidegate.store",
    "Contract": "tidegate.contracts",
    "ContractDiff": "tidegate.contracts",
    "EXIT_DATA_HELD": "tidegate.engine",
    "EXIT_FAILED": "tidegate.engine",
    "EXIT_OK": "tidegate.engine",
    "FileReject": "tidegate.batches",
    "FileSource": "tidegate.sources",
    "MemorySource": "tidegate.sources",
    "Pipeline": "tidegate.engine",
    "RawBatch": "tidegate.batches",
    "RecheckResult": "tidegate.review",
    "RunResult": "tidegate.engine",
    "ShadowVerdict": "tidegate.engine",
    "Source": "tidegate.sources",
    "Store": "tidegate.store",
    "TidegateError": "tidegate.errors",
    "Verdict": "tidegate.engine",
    "contract_from_dict": "tidegate.contracts",
    "load_contract": "tidegate.contracts",
    "open_store": "tidegate.store",
    "recheck": "tidegate.review",
}

__all__ = [
    "EXIT_DATA_HELD",
    "EXIT_FAILED",
    "EXIT_OK",
    "BatchOutcome",
    "Contract",
    "ContractDiff",
    "FileReject",
    "FileSource",
    "MemorySource",
    "Pipeline",
    "RawBatch",
    "RecheckResult",
    "RunResult",
    "ShadowVerdict",
    "Source",
    "Store",
    "TidegateError",
    "Verdict",
    "__version__",
    "contract_from_dict",
    "ingest_flow",
    "load_contract",
    "open_store",
    "recheck",
]


def ingest_flow() -> Any:
    """The ``ingest`` Prefect flow (imports Prefect): ``ingest_flow()(pipeline="orders",
    project_dir=".")`` runs one pipeline file's source as a flow run."""
    from tidegate.flows._ingest import ingest

    return ingest


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tidegate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
