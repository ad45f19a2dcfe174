"""Find the current contract of each source, for replay and edits."""

from __future__ import annotations

from pathlib import Path

from tidegate.contracts import Contract, check_contracts, find_contracts
from tidegate.errors import ContractError, ReviewError


def contracts_by_source(project_dir: Path) -> dict[str, Contract]:
    """Every good contract in ``<project>/schemas``, by source name."""
    folder = project_dir / "schemas"
    if not folder.is_dir():
        return {}
    return {
        result.source: result
        for _, result in check_contracts(find_contracts(folder))
        if not isinstance(result, ContractError)
    }


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
    """The source's current contract: the file its pipeline names in ``contract:``, else
    the one contract of the source in ``<project>/schemas`` (as replay finds it); None
    when neither loads."""
    from tidegate.contracts import load_contract
    from tidegate.errors import TidegateError
    from tidegate.pipelines import load_pipelines

    try:
        pipelines = load_pipelines(project_dir)
    except TidegateError:
        pipelines = []
    for pipeline in pipelines:
        try:
            contract = load_contract(pipeline.contract_path)
        except TidegateError:
            continue
        if contract.source == source:
            return contract
    return contracts_by_source(project_dir).get(source)
