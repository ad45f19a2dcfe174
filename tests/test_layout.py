"""The layout shows the flow: data moves one way, ``sources -> normalize -> validate ->
route -> store``, and no stage imports a later one at import time.

Checked on the import statements that run when a module is imported (module level,
outside ``if TYPE_CHECKING:``); an import inside a function is a deliberate, lazy
convenience (``Contract.validate`` runs the engine) and is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tidegate

SRC = Path(tidegate.__file__).parent
LATER_THAN_STORE = {"engine", "flows", "cli", "audit", "review", "monitor", "doctor"}
STAGES = {"sources", "normalize", "validate", "route"}
# package -> the tidegate packages it must not import at import time
FORBIDDEN = {
    "batches": STAGES | {"contracts", "pipelines", "store"} | LATER_THAN_STORE,
    "contracts": STAGES | {"pipelines", "store"} | LATER_THAN_STORE,
    # a pipeline file's ``monitor:`` section is parsed by the monitor's own config model
    "pipelines": STAGES | {"store"} | (LATER_THAN_STORE - {"monitor"}),
    "sources": {"normalize", "validate", "route", "store"} | LATER_THAN_STORE,
    "normalize": {"validate", "route", "store"} | LATER_THAN_STORE,
    "validate": {"route", "store"} | LATER_THAN_STORE,
    "route": {"store"} | LATER_THAN_STORE,
    "store": STAGES | LATER_THAN_STORE,
    "engine": {"flows", "cli", "audit", "review", "doctor"},
}


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import that runs when the module is imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend((node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((node.lineno, node.module))
                if node.module == "tidegate":  # from tidegate import engine
                    found.extend((node.lineno, f"tidegate.{a.name}") for a in node.names)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return found


def violations() -> list[str]:
    bad = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((SRC / package).rglob("*.py")):
            for line, module in runtime_imports(path):
                parts = module.split(".")
                if parts[0] == "tidegate" and len(parts) > 1 and parts[1] in forbidden:
                    bad.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    return bad


def test_no_stage_imports_a_later_one() -> None:
    assert violations() == []


def test_the_check_sees_a_backward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from tidegate.store import commit_batch\n"
        "if TYPE_CHECKING:\n    from tidegate.flows import ingest_flow\n"
        "def f():\n    from tidegate.engine import prepare\n"
    )
    assert runtime_imports(module) == [(1, "typing"), (2, "tidegate.store")]
