"""`tidegate schema promote`: make a source's candidate contract (``shadow:``) current.

The candidate's text is written, byte for byte, into the file the pipeline names in
``contract:`` (and the GX suite it names, where the promoted contract will look for
it), once the shadow figures pass the pipeline's ``promote_if:`` gates; the
``contract_promoted`` audit entry keeps the figures and the gates it was promoted on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tidegate._safe_text import assemble, plain
from tidegate.cli._common import (
    ActorOpt,
    ProjectOpt,
    StoreOpt,
    console,
    err_console,
    fail,
    os_error_line,
)
from tidegate.cli._contract_write import suite_ref, write_contract_audited
from tidegate.cli._schema_shadow import LastOpt, ShadowPicture, SourceArg, no_data_line, rel_path
from tidegate.errors import ContractError

if TYPE_CHECKING:
    from tidegate.contracts import Contract


def _load(path: Path) -> tuple[Contract, bytes]:
    from tidegate.contracts import load_contract

    try:
        return load_contract(path), path.read_bytes()
    except ContractError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(os_error_line(exc)) from None


def _refusals(picture: ShadowPicture, candidate: Contract) -> list[str]:
    """Why the figures say no: no shadow data, figures of another text, failing gates."""
    s = picture.summary
    if not s.batches:
        return [no_data_line(picture.pipeline)]
    out = []
    if s.content_hash != candidate.content_hash:
        out.append(
            f"the shadow figures are of another candidate text (hash {s.content_hash[:12]}); "
            f"{candidate.path} now hashes {candidate.content_hash[:12]}: run the pipeline "
            "again to shadow this text"
        )
    out += [f"gate {g.describe()}" for g in picture.gates or [] if not g.passed]
    return out


def _suite_copy(candidate_path: Path, text: str, current_path: Path) -> tuple[Path, Path] | None:
    """``(from, to)`` when the candidate names a GX suite by a relative path that, from
    the current contract's folder, points at another file: the promoted text needs it."""
    ref = suite_ref(text)
    if ref is None or Path(ref).is_absolute():
        return None
    source, target = candidate_path.parent / ref, current_path.parent / ref
    return None if source.resolve() == target.resolve() else (source, target)


def _detail(
    picture: ShadowPicture, current: Contract, candidate: Contract, forced: list[str]
) -> dict[str, Any]:
    p = picture.pipeline
    return {
        "from": {"version": current.version, "content_hash": current.content_hash},
        "to": {"version": candidate.version, "content_hash": candidate.content_hash},
        "path": rel_path(p.contract_path, p.project_dir),
        "candidate": rel_path(Path(candidate.path), p.project_dir),
        "shadow": picture.summary.as_dict(),
        "gates": [g.as_dict() for g in picture.gates or []],
        "forced": bool(forced),
        "forced_over": forced,
    }


def promote(
    source: SourceArg,
    last: LastOpt = 20,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Promote although gates fail or no batch was shadowed (audited)."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    project: ProjectOpt = Path("."),
    store: StoreOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Make the candidate contract (the pipeline's shadow:) current, if its gates pass.

    Its text replaces the file the pipeline names in contract:, once the shadow figures
    of its newest batches pass the promote_if gates (exit 3 otherwise, naming each
    failing gate). Audited as contract_promoted, with the figures and the gates."""
    from tidegate.cli._schema_shadow import shadow_picture
    from tidegate.engine._outcome import EXIT_DATA_HELD
    from tidegate.pipelines._promote_if import shadow_name_of, shadow_path_of

    picture = shadow_picture(project, store, source, last)
    pipeline = picture.pipeline
    where = rel_path(pipeline.path, pipeline.project_dir)
    candidate_path = shadow_path_of(pipeline)
    if candidate_path is None:
        raise fail(
            f"{where} names no candidate contract; add `shadow: FILE`, run the pipeline, "
            f"then `tidegate schema promote {pipeline.name}`"
        )
    candidate, data = _load(candidate_path)
    current, current_data = _load(pipeline.contract_path)
    if data == current_data:
        raise fail(
            f"{candidate_path} and {pipeline.contract_path} hold the same text: nothing to "
            f"promote; point shadow: in {where} at the next candidate or remove it"
        )
    refusals = _refusals(picture, candidate)
    if refusals and not force:
        for line in refusals:
            err_console.print(assemble(("✗", "red"), " ", plain(line)), highlight=False)
        raise fail(
            f"not promoted: {len(refusals)} reason{'s' if len(refusals) != 1 else ''} above; "
            "wait for more batches, fix the candidate, or pass --force (audited)",
            EXIT_DATA_HELD,
        )
    if not yes:
        typer.confirm(f"write {candidate_path} into {pipeline.contract_path}?", abort=True)
    _promote(picture, current, candidate, data, refusals, actor)
    for line in refusals:
        console.print(plain(f"forced over: {line}"), highlight=False)
    console.print(
        plain(
            f"promoted {candidate_path} (v{candidate.version}) into {pipeline.contract_path} "
            f"(was v{current.version}); the next run commits under version {candidate.version}; "
            f"{where} still names shadow: {shadow_name_of(pipeline)}: point it at the "
            "next candidate or remove it"
        ),
        highlight=False,
    )


def _promote(
    picture: ShadowPicture,
    current: Contract,
    candidate: Contract,
    data: bytes,
    forced: list[str],
    actor: str | None,
) -> None:
    """Append ``contract_promoted`` and write the files in one transaction (a failed
    write rolls the audit entry back), holding the source's run lock."""
    pipeline = picture.pipeline
    detail = _detail(picture, current, candidate, forced)
    suite = _suite_copy(Path(candidate.path), data.decode("utf-8"), pipeline.contract_path)
    detail["suite"] = None if suite is None else rel_path(suite[1], pipeline.project_dir)
    files = [(pipeline.contract_path, data)]
    if suite is not None:
        try:
            files.insert(0, (suite[1], suite[0].read_bytes()))
        except OSError as exc:
            raise fail(os_error_line(exc)) from None
    write_contract_audited(
        picture.store,
        pipeline=pipeline.name,
        source=picture.summary.source,
        event="contract_promoted",
        detail=detail,
        actor=actor,
        files=files,
        verb="promote",
    )
    if suite is not None:
        console.print(plain(f"wrote the GX suite {suite[0]} to {suite[1]}"), highlight=False)
