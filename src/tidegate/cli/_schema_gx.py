"""`tidegate schema export-gx` and `tidegate schema import-gx`: a contract's checks as
a GX 1.x suite JSON, and a starter contract from one. Both work on the JSON alone: GX
is never imported."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidegate._safe_text import plain
from tidegate.cli._common import ProjectOpt, console, err_console, fail
from tidegate.errors import ContractError

if TYPE_CHECKING:
    from tidegate.contracts._gx_export import Untranslated
    from tidegate.contracts._model import Contract

ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite the output file if it exists.")]


def _find_contract(source: str, project: Path) -> Contract:
    """SOURCE as a contract file, else the contract in <project>/schemas declaring it."""
    from tidegate.contracts import check_contracts, find_contracts, load_contract

    if source.endswith((".yaml", ".yml")) or Path(source).is_file():
        try:
            return load_contract(Path(source))
        except ContractError as exc:
            raise fail(exc) from None
    try:
        paths = find_contracts(project / "schemas")
    except ContractError as exc:
        raise fail(exc) from None
    from tidegate.pipelines._contract_file import shadow_candidates

    shadows = shadow_candidates(project)
    for path, result in check_contracts(paths, shadows):
        if isinstance(result, ContractError) or path.resolve() in shadows:
            continue  # a candidate is exported by its file name, never by its source
        if result.source == source:
            return result
    raise fail(
        f"no contract in {project / 'schemas'} declares source {source!r}; "
        "give a source name a contract declares, or a contract file"
    )


def _write(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it, or choose another --out")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None


def _report(untranslated: tuple[Untranslated, ...], side: str) -> None:
    if not untranslated:
        console.print(plain(f"every {side} was translated"), highlight=False)
        return
    console.print(plain(f"not translated ({len(untranslated)}):"), highlight=False)
    for u in untranslated:
        console.print(plain(f"  {u.what}: {u.reason}"), highlight=False)


def export_gx(
    source: Annotated[
        str, typer.Argument(help="A source name (its contract in schemas/) or a contract file.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Default: <contract dir>/<source>.gx.json."),
    ] = None,
    force: ForceOpt = False,
    project: ProjectOpt = Path("."),
) -> None:
    """Write a contract's checks as a Great Expectations 1.x suite (JSON), and list what
    GX cannot express (expr checks, a model:, string column types)."""
    from tidegate.contracts._gx_export import export_suite

    contract = _find_contract(source, project)
    exported = export_suite(contract)
    target = out or Path(contract.path).parent / f"{contract.source}.gx.json"
    _write(target, json.dumps(exported.document, indent=2, ensure_ascii=False) + "\n", force)
    count = len(exported.document["expectations"])
    console.print(plain(f"wrote {target} ({count} expectations)"), highlight=False)
    _report(exported.untranslated, "check")


def import_gx(
    suite: Annotated[Path, typer.Argument(help="A GX 1.x suite JSON file.")],
    source: Annotated[
        str | None, typer.Option(help="Source name. Default: the suite's (or its name).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Default: schemas/<source>.yaml.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write a starter contract from a GX 1.x suite: its columns, checks, nullability and
    uniqueness; the expectations tidegate has no check for stay in the suite, which the
    contract names under expectations: (and lists in a comment)."""
    from tidegate.contracts._gx_import import import_suite

    try:
        document = json.loads(suite.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(
            f"cannot read {suite}: {exc.strerror or exc}; give a GX suite JSON file"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(f"{suite} is not JSON ({exc}); give a GX 1.x suite JSON file") from None
    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise fail(f"{suite} is not a GX 1.x suite: an object with an 'expectations' list")
    first = import_suite(document, suite_path=suite.name, source=source)
    target = out or Path("schemas") / f"{first.source}.yaml"
    relative = os.path.relpath(suite.resolve(), target.resolve().parent)
    starter = import_suite(document, suite_path=Path(relative).as_posix(), source=source)
    _write(target, starter.yaml, force)
    console.print(
        plain(f"wrote {target}; review it, then `tidegate schema check {target}`"), highlight=False
    )
    _report(starter.untranslated, "expectation")
    if starter.untranslated:
        err_console.print(
            plain(f"the contract names the suite ({relative}) for the expectations above"),
            highlight=False,
        )
