"""Paths a pipeline file may name: inside its project folder, or a folder it allows.

A pipeline file's ``source:`` paths (a file's ``path``, a landing ``folder`` and
``pattern``, a ``sqlite://`` URL) and its ``contract:`` and ``shadow:`` are resolved
(symlinks followed, ``..`` removed) and must fall under the project folder or under one
of the folders its ``allowed_paths:`` lists; anything else is refused before a byte of
it is read, naming the path and the key to add. A glob is checked by the folder it
searches (the part before its first wildcard), and a ``..`` after a wildcard is refused;
each file a glob or landing folder matches is checked again when it is listed
(:func:`confine_files`: a symlink out of the project).

The Python API (``tidegate.Pipeline`` given a path, no project) is not confined: there
the caller chose the path.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tidegate.errors import PipelineError

ALLOWED_PATHS_KEY = "allowed_paths"


def parse_allowed_paths(path: Path, value: object, project_dir: Path) -> tuple[Path, ...]:
    """The folders a pipeline file may read from: its project folder, then each entry of
    its ``allowed_paths:`` (relative entries from the project folder), resolved."""
    roots = [project_dir.resolve()]
    if value is None:
        return tuple(roots)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PipelineError(
            f"{path}: {ALLOWED_PATHS_KEY}: {value!r} is not valid; expected a list of "
            "folders a source or contract may be read from, e.g. [/data/exports]"
        )
    for entry in value:
        folder = Path(entry).expanduser()
        roots.append((folder if folder.is_absolute() else project_dir / folder).resolve())
    return tuple(roots)


def is_inside(target: Path, roots: tuple[Path, ...]) -> bool:
    """Whether ``target`` (resolved) is one of ``roots`` or under one of them."""
    resolved = target.resolve()
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


def confine(
    path: Path, key: str, value: str, target: Path, roots: tuple[Path, ...], project_dir: Path
) -> None:
    """Refuse ``target`` (what ``key: value`` of the pipeline file ``path`` names) unless
    it resolves under one of ``roots``."""
    if is_inside(target, roots):
        return
    resolved = target.resolve()
    folder = resolved if resolved.is_dir() else resolved.parent
    allowed = ", ".join(str(r) for r in roots[1:])
    also = f" or the allowed folders ({allowed})" if allowed else ""
    raise PipelineError(
        f"{path}: {key}: {value!r} resolves to {str(resolved)!r}, outside the project folder "
        f"{str(project_dir.resolve())!r}{also}; nothing was read. Move it under the project, "
        f"or allow its folder in {path.name} with `{ALLOWED_PATHS_KEY}: [{folder}]`"
    )


def _glob_base(pattern: str) -> tuple[Path, bool]:
    """The folder a glob searches (its parts before the first wildcard) and whether a
    ``..`` follows a wildcard (which could climb out of that folder)."""
    parts = Path(pattern).expanduser().parts
    static: list[str] = []
    for i, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*static) if static else Path("."), ".." in parts[i:]
        static.append(part)
    return Path(*static), False


def _named_paths(source: Mapping[str, Any]) -> list[tuple[str, str, Path, bool]]:
    """(key, value, the path it names, a ``..`` after a wildcard) for each path the
    source declaration reads."""
    kind = source.get("kind")
    out: list[tuple[str, str, Path, bool]] = []
    if kind == "file" and isinstance(source.get("path"), str):
        base, climbs = _glob_base(source["path"])
        out.append(("source.path", source["path"], base, climbs))
    elif kind == "landing" and isinstance(source.get("folder"), str):
        folder = Path(source["folder"]).expanduser()
        out.append(("source.folder", source["folder"], folder, False))
        pattern = source.get("pattern")
        if isinstance(pattern, str):
            base, climbs = _glob_base(pattern)
            out.append(("source.pattern", pattern, folder / base, climbs))
    elif kind == "sql" and isinstance(source.get("url"), str):
        url = source["url"]
        if url.split("://", 1)[0].lower().split("+", 1)[0] == "sqlite" and "://" in url:
            rest = url.split("://", 1)[1]
            if rest:
                out.append(("source.url", url, Path(rest).expanduser(), False))
    return out


def confine_source(
    path: Path, source: Mapping[str, Any], roots: tuple[Path, ...], project_dir: Path
) -> None:
    """Refuse a source declaration that reads outside ``roots``."""
    for key, value, named, climbs in _named_paths(source):
        if climbs:
            raise PipelineError(
                f"{path}: {key}: {value!r} has '..' after a wildcard, which could match "
                "files outside the folder it searches; nothing was read. Name the folder "
                f"before the wildcard instead (and, if it is outside the project, allow it "
                f"with `{ALLOWED_PATHS_KEY}: [FOLDER]`)"
            )
        target = named if named.is_absolute() else project_dir / named
        confine(path, key, value, target, roots, project_dir)


def confine_files(source: object, roots: tuple[Path, ...]) -> object:
    """``source`` (a file or landing source built from a pipeline file) told to refuse a
    matched file that resolves outside ``roots`` (a symlink out of the project); other
    kinds are returned as they are."""
    if roots and hasattr(source, "confine_to"):
        source.confine_to = roots
    return source


def confinement_problems(project_dir: Path) -> list[PipelineError]:
    """For each ``pipelines/*.yaml`` of the project that names a path outside its allowed
    folders, the refusal (files that do not parse are left to the loader to refuse)."""
    import yaml

    problems = []
    for path in sorted((project_dir / "pipelines").glob("*.y*ml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(raw, dict):
            continue
        try:
            roots = parse_allowed_paths(path, raw.get(ALLOWED_PATHS_KEY), project_dir)
            if isinstance(raw.get("source"), Mapping):
                confine_source(path, raw["source"], roots, project_dir)
            for key in ("contract", "shadow"):
                if isinstance(raw.get(key), str):
                    named = raw[key]
                    confine(path, key, named, project_dir / named, roots, project_dir)
        except PipelineError as exc:
            problems.append(exc)
    return problems
