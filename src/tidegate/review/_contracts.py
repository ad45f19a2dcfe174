"""Find the current contract of each source, for replay and edits."""

from __future__ import annotations

from pathlib import Path

from tidegate.contracts import Contract, check_contracts, find_contracts
from tidegate.errors import ContractError, ReviewError


def contracts_by_source(project_dir: Path) -> dict[str, Contract]:
    """The current contract of each source: the file its pipeline names in ``contract:``
    (so a candidate beside it in schemas/, ``orders.v2.yaml`` for the same source, is
    not taken for it), and every other good contract in ``<project>/schemas``."""
    from tidegate.pipelines._contract_file import shadow_candidates

    folder = project_dir / "schemas"
    shadows = shadow_candidates(project_dir)
    found = (
        {
            result.source: result
            for path, result in check_contracts(find_contracts(folder), shadows)
            if not isinstance(result, ContractError) and path.resolve() not in shadows
        }
        if folder.is_dir()
        else {}
    )
    return {**found, **_pipeline_contracts(project_dir)}


def _pipeline_contracts(project_dir: Path) -> dict[str, Contract]:
    """The contract each pipeline file names, by source (files that do not load left out)."""
    from tidegate.contracts import load_contract
    from tidegate.errors import TidegateError
    from tidegate.pipelines import load_pipelines

    if not (project_dir / "pipelines").is_dir():
        return {}
    try:
        pipelines = load_pipelines(project_dir)
    except TidegateError:
        return {}
    contracts: dict[str, Contract] = {}
    for pipeline in pipelines:
        try:
            contract = load_contract(pipeline.contract_path)
        except TidegateError:
            continue
        contracts.setdefault(contract.source, contract)
    return contracts


def contract_for(contracts: dict[str, Contract], source: str) -> Contract:
    try:
        return contracts[source]
    except KeyError:
        raise ReviewError(
            f"no contract for source {source!r} in schemas/ (known: "
            f"{', '.join(sorted(contracts)) or 'none'}); run from the project folder or pass "
            "--project, and check it with `tidegate schema check`"
        ) from None


def current_contract(project_dir: Path, source: str) -> Contract | None:
    """The source's current contract (see :func:`contracts_by_source`), or None."""
    return contracts_by_source(project_dir).get(source)
