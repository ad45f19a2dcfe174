"""What `tidegate schema rollback` does: find the current contract file of a source
and the version it holds, pick the one to restore, write it (and its GX suite) under
an audit entry. Text is written exactly as the store recorded it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidegate.cli._common import fail
from tidegate.cli._contract_write import suite_ref, write_contract_audited
from tidegate.cli._version_pick import label
from tidegate.errors import ContractError, TidegateError

if TYPE_CHECKING:
    from tidegate.store import Store
    from tidegate.store._contract_versions import ContractVersion


@dataclass(frozen=True)
class RollbackPlan:
    path: Path  # the current contract file
    pipeline: str  # the pipeline that names it
    current: ContractVersion | None  # the recorded version the file holds, if any
    version: int | None  # the file's version: (None: it does not load)
    content_hash: str | None
    default: ContractVersion | None  # the version committed before the current one

    @property
    def current_label(self) -> str:
        if self.current is not None:
            return label(self.current)
        if self.content_hash is None:
            return "a text that does not load"
        return f"v{self.version} ({self.content_hash[:12]}, never committed)"

    @property
    def current_ref(self) -> str:
        return str(self.path)


def plan_rollback(
    project: Path, source: str, versions: list[ContractVersion], force: bool
) -> RollbackPlan:
    """The current file and what it holds; refuse a file with uncommitted changes (a
    text no batch committed under) unless ``force``."""
    from tidegate.contracts._load import contract_from_text
    from tidegate.pipelines._contract_file import pipeline_of_source

    try:
        pipeline = pipeline_of_source(project.resolve(), source)
        text = pipeline.contract_path.read_text(encoding="utf-8")
    except (TidegateError, OSError) as exc:
        raise fail(exc if isinstance(exc, TidegateError) else str(exc)) from None
    path = pipeline.contract_path
    version: int | None
    content_hash: str | None
    try:
        contract = contract_from_text(text, str(path))
        version, content_hash = contract.version, contract.content_hash
    except ContractError:
        version = content_hash = None
    current = next((v for v in versions if v.content_hash == content_hash), None)
    if current is None and not force:
        what = "does not load" if content_hash is None else "is a text no batch committed under"
        raise fail(
            f"{path} {what} (uncommitted changes); run it once, or pass --force to overwrite it"
        )
    default: ContractVersion | None
    if current is None:
        default = versions[-1]
    else:
        earlier = versions[: versions.index(current)]
        default = earlier[-1] if earlier else None
    return RollbackPlan(path, pipeline.name, current, version, content_hash, default)


def _suite_file(contract_file: Path, text: str) -> Path | None:
    """Where the ``expectations.suite`` a contract text names lives, beside ``contract_file``."""
    ref = suite_ref(text)
    if ref is None:
        return None
    return Path(ref) if Path(ref).is_absolute() else contract_file.parent / ref


def write_rollback(
    store: Store, plan: RollbackPlan, chosen: ContractVersion, actor: str | None
) -> int:
    """Write ``chosen``'s text (and suite) into the current file, audited; the entry's seq."""
    suite = _suite_file(plan.path, chosen.contract_text) if chosen.suite_text is not None else None
    detail: dict[str, Any] = {
        "from": {"version": plan.version, "content_hash": plan.content_hash},
        "to": {"version": chosen.version, "content_hash": chosen.content_hash},
        "path": str(plan.path),
        **({"suite_path": str(suite)} if suite is not None else {}),
    }
    files = [(plan.path, chosen.contract_text.encode("utf-8"))]
    if suite is not None and chosen.suite_text is not None:
        files.insert(0, (suite, chosen.suite_text.encode("utf-8")))
    return write_contract_audited(
        store,
        pipeline=plan.pipeline,
        source=chosen.source,
        event="contract_rolled_back",
        detail=detail,
        actor=actor,
        files=files,
        verb="roll back",
    )
