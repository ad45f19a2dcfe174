"""Rule ids tidegate gives a failure itself are constants in tidegate.rules, nowhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tidegate
from tidegate import rules

SRC = Path(tidegate.__file__).parent
RULE_ID = re.compile(r"^_(file|batch|row|record|header|column|source)\.[a-z_]+$")
NOT_YET: set[str] = set()  # modules still allowed to spell a rule id themselves


def rule_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and RULE_ID.match(node.value)
    ]


def test_rule_ids_are_written_only_in_rules_py() -> None:
    found = {
        str(path.relative_to(SRC)): rule_literals(path)
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "rules.py"
    }
    assert {where: ids for where, ids in found.items() if ids and where not in NOT_YET} == {}


def test_rules_py_holds_distinct_ids_and_imports_nothing() -> None:
    ids = {name: value for name, value in vars(rules).items() if name.endswith("_RULE")}
    assert len(ids) >= 9
    assert all(RULE_ID.match(value) for value in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    tree = ast.parse(Path(rules.__file__).read_text(encoding="utf-8"))
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(n) for n in imports] == ["from __future__ import annotations"]


def test_the_packages_re_export_the_same_constants() -> None:
    from tidegate.normalize import HEADER_RENAME_RULE
    from tidegate.review import _replay
    from tidegate.route import DUPLICATE_KEY_RULE, HELD_RULE
    from tidegate.store import _batches, _row_writes

    assert HELD_RULE is rules.HELD_RULE and DUPLICATE_KEY_RULE is rules.DUPLICATE_KEY_RULE
    assert HEADER_RENAME_RULE is rules.HEADER_RENAME_RULE
    assert _replay.FILE_RULE is rules.UNREADABLE_FILE_RULE
    assert _row_writes.EXISTING_KEY_RULE is rules.EXISTING_KEY_RULE
    assert _batches.UNREADABLE_FILE_RULE is rules.UNREADABLE_FILE_RULE
