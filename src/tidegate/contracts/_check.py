"""Check many contract files at once (``tidegate schema check``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

from tidegate.contracts._load import load_contract
from tidegate.contracts._model import Contract
from tidegate.errors import ContractError

CONTRACT_SUFFIXES = (".yaml", ".yml")


def find_contracts(schemas_dir: Path) -> list[Path]:
    """Contract files (``*.yaml``, ``*.yml``, not hidden) directly in ``schemas_dir``, sorted."""
    schemas_dir = Path(schemas_dir)
    if not schemas_dir.is_dir():
        raise ContractError(
            str(schemas_dir.absolute()),
            "<dir>",
            str(schemas_dir.absolute()),
            "an existing directory of contract files",
            hint="run tidegate from the project folder, pass --project, "
            "or start a project here with `tidegate init`",
        )
    return sorted(
        p
        for p in schemas_dir.iterdir()
        if p.suffix in CONTRACT_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def check_contracts(
    paths: list[Path], candidates: Collection[Path] = ()
) -> list[tuple[Path, Contract | ContractError]]:
    """Load every file and collect its contract or its error, in the order given.

    No exception escapes for a bad file. Files that declare the same ``source`` as
    another file are all reported as errors naming the other files, since a source
    (and its target table) must have exactly one contract. ``candidates`` (files a
    pipeline names as its ``shadow:``) are checked like the others but are not a second
    contract of their source: nothing is ever loaded under them.
    """
    shadows = {Path(c).resolve() for c in candidates}
    results: list[tuple[Path, Contract | ContractError]] = []
    for path in paths:
        path = Path(path)
        outcome: Contract | ContractError
        try:
            outcome = load_contract(path)
        except ContractError as exc:
            outcome = exc
        except Exception as exc:  # a bug or an odd file must not stop the other files
            outcome = ContractError(str(path), "<file>", repr(exc), "a loadable contract")
        results.append((path, outcome))

    by_source: dict[str, list[int]] = defaultdict(list)
    for i, (path, outcome) in enumerate(results):
        if isinstance(outcome, Contract) and path.resolve() not in shadows:
            by_source[outcome.source].append(i)
    for i, (path, outcome) in enumerate(results):
        same = by_source[outcome.source] if isinstance(outcome, Contract) else []
        if isinstance(outcome, Contract) and len(same) > 1 and i in same:
            others = ", ".join(str(results[j][0]) for j in same if j != i)
            results[i] = (
                path,
                ContractError(
                    str(path),
                    "source",
                    outcome.source,
                    f"a source no other contract declares (also declared in {others})",
                ),
            )
    return results
