"""A source is handed its cursor by its caller: no module of tidegate.sources reads the store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tidegate.sources

SOURCES = Path(tidegate.sources.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path.name}: a relative import"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_source_module_imports_the_store() -> None:
    modules = sorted(SOURCES.glob("*.py"))
    assert len(modules) > 10
    offenders = {
        path.name: sorted(
            m for m in imported_modules(path) if m.split(".")[:2] == ["tidegate", "store"]
        )
        for path in modules
    }
    assert {name: found for name, found in offenders.items() if found} == {}


@pytest.mark.parametrize(
    "code",
    [
        "def f():\n    from tidegate.store._cursors import last_cursor\n",
        "from tidegate import store\n",
        "import tidegate.store._location as location\n",
    ],
)
def test_the_check_sees_a_store_import(tmp_path: Path, code: str) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(code)
    assert any(m.split(".")[:2] == ["tidegate", "store"] for m in imported_modules(sample))
