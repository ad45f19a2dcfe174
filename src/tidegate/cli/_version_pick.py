"""Which recorded contract version a user means: a version number, a hash prefix
(6 characters or more) or a contract file, for `tidegate schema diff` and `rollback`.
An unknown or ambiguous one is one line naming what the store holds (exit 2)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tidegate.cli._common import fail
from tidegate.errors import ContractError

if TYPE_CHECKING:
    from tidegate.contracts._model import Contract
    from tidegate.store._contract_versions import ContractVersion

HASH_PREFIX_RE = re.compile(r"^[0-9a-f]{6,64}$")
MIN_PREFIX = 6


def label(v: ContractVersion) -> str:
    return f"v{v.version} ({v.content_hash[:12]})"


def recorded(versions: list[ContractVersion]) -> str:
    return ", ".join(label(v) for v in versions) or "none"


def pick_version(source: str, versions: list[ContractVersion], spec: str) -> ContractVersion:
    """The recorded version ``spec`` names (a number, ``v2``, or a hash prefix)."""
    text = spec.strip().lower()
    number = re.fullmatch(r"v?(\d+)", text)
    found: list[ContractVersion] = []
    what = f"version {spec}"
    if HASH_PREFIX_RE.match(text):
        found = [v for v in versions if v.content_hash.startswith(text)]
        what = f"hash {text}"
    if not found and number:
        found = [v for v in versions if v.version == int(number.group(1))]
        what = f"version {int(number.group(1))}"
    elif not found and not HASH_PREFIX_RE.match(text):
        raise fail(
            f"{spec!r} is neither a version number nor a hash prefix of {MIN_PREFIX} or more "
            f"characters; recorded for {source}: {recorded(versions)}"
        )
    if not found:
        raise fail(f"source {source} has no recorded {what}; recorded: {recorded(versions)}")
    if len(found) > 1:
        raise fail(
            f"{what} of {source} is ambiguous, it names {recorded(found)}; "
            "give a hash prefix instead"
        )
    return found[0]


def stored_contract(v: ContractVersion) -> Contract:
    """The contract a recorded version's text (and suite text) makes."""
    from tidegate.contracts._load import contract_from_text

    try:
        return contract_from_text(
            v.contract_text, f"<{v.source} {label(v)}>", suite_text=v.suite_text
        )
    except ContractError as exc:
        raise fail(f"the recorded text of {v.source} {label(v)} no longer loads: {exc}") from None


def is_file_spec(spec: str, project: Path) -> bool:
    return spec.endswith((".yaml", ".yml")) or file_of(spec, project).is_file()


def file_of(spec: str, project: Path) -> Path:
    """A contract file named on the command line: relative to the project when it is there."""
    path = Path(spec)
    return project / path if not path.is_absolute() and (project / path).is_file() else path


def contract_of(source: str, versions: list[ContractVersion], spec: str, project: Path) -> Contract:
    """``spec`` as a contract file (it exists, or ends in .yaml/.yml; relative to the
    project first), else a recorded version of ``source``."""
    path = file_of(spec, project)
    if is_file_spec(spec, project):
        from tidegate.contracts import load_contract

        try:
            contract = load_contract(path)
        except ContractError as exc:
            raise fail(exc) from None
        if contract.source != source:
            raise fail(
                f"{spec} declares source {contract.source!r}, not {source!r}; "
                "give a contract file of the same source"
            )
        return contract
    return stored_contract(pick_version(source, versions, spec))
