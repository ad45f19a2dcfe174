"""Contracts: load, check and infer per-source contracts; compile them to pandera (polars).

``import tidegate.contracts`` stays light (no pandera, no polars): the pandera
compiler and the inference helper are imported on first use of their names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidegate.contracts._check import check_contracts, find_contracts
from tidegate.contracts._diff import ContractDiff, diff_contracts
from tidegate.contracts._load import (
    content_hash,
    contract_from_dict,
    contract_from_text,
    load_contract,
)
from tidegate.contracts._model import (
    CheckSpec,
    ColumnNormalize,
    ColumnSpec,
    Contract,
    ContractNormalize,
    Policy,
)

if TYPE_CHECKING:
    from tidegate.contracts._infer import infer_contract
    from tidegate.contracts._pandera import (
        tidegate_rule_id,
        to_pandera_schema,
        to_pandera_schemas,
        with_rule_ids,
    )
    from tidegate.contracts._types import polars_dtype

__all__ = [
    "CheckSpec",
    "ColumnNormalize",
    "ColumnSpec",
    "Contract",
    "ContractDiff",
    "ContractNormalize",
    "Policy",
    "check_contracts",
    "content_hash",
    "contract_from_dict",
    "contract_from_text",
    "diff_contracts",
    "find_contracts",
    "infer_contract",
    "load_contract",
    "polars_dtype",
    "tidegate_rule_id",
    "to_pandera_schema",
    "to_pandera_schemas",
    "with_rule_ids",
]

_LAZY = {
    "infer_contract": "tidegate.contracts._infer",
    "to_pandera_schema": "tidegate.contracts._pandera",
    "to_pandera_schemas": "tidegate.contracts._pandera",
    "tidegate_rule_id": "tidegate.contracts._pandera",
    "with_rule_ids": "tidegate.contracts._pandera",
    "polars_dtype": "tidegate.contracts._types",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tidegate.contracts' has no attribute {name!r}")
