"""What changed between two contracts, in words: :func:`diff_contracts` (``a.diff(b)``).

A pure function of the two in-memory contracts (no store, no file): columns added,
removed or renamed (a removed column whose name the new contract takes as an alias or
a ``normalize.rename`` header of an added one is a rename), and for each column kept
its type, nullable, unique, pii, header aliases, formats, normalization and checks
(by rule id: added, removed, changed); the contract-wide normalization, the policy,
the primary key, the model and the GX suite (``expectations:``, expectation by rule id).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from tidegate.contracts._model import ColumnSpec, Contract

_COLUMN_FLAGS = ("type", "nullable", "unique", "pii")
_COLUMN_DETAILS = ("aliases", "formats", "true_values", "false_values", "description")


@dataclass(frozen=True)
class Change:
    """One difference: its ``kind`` (``column_added``, ``type_changed``, ``check_added``,
    ``policy_changed``...), what it is about (a column, a rule id, a key), the values
    before and after, and the sentence that says it."""

    kind: str
    subject: str
    before: Any
    after: Any
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class ContractDiff:
    """The changes from contract ``a`` (``before``) to contract ``b`` (``after``)."""

    source: str
    before: dict[str, Any]  # {"version", "content_hash", "path"}
    after: dict[str, Any]
    changes: tuple[Change, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)  # old column -> new column

    def __bool__(self) -> bool:
        return bool(self.changes)

    def lines(self) -> list[str]:
        """One sentence per change ("no change" when the two say the same)."""
        return [c.text for c in self.changes] or ["no change: the two contracts say the same"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "before": self.before,
            "after": self.after,
            "renamed": dict(self.renamed),
            "changes": [c.to_dict() for c in self.changes],
        }


def _plain(value: Any) -> Any:
    """A value as JSON writes it (tuples as lists, dataclasses as dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _side(c: Contract) -> dict[str, Any]:
    return {"version": c.version, "content_hash": c.content_hash, "path": c.path}


def diff_contracts(a: Contract, b: Contract) -> ContractDiff:
    """Every change from ``a`` to ``b``, in the order a reader wants them."""
    out: list[Change] = []

    def add(kind: str, subject: str, before: Any, after: Any, text: str) -> None:
        out.append(Change(kind, subject, before, after, text))

    if a.source != b.source:
        add("source_changed", "source", a.source, b.source, f"source {a.source} → {b.source}")
    if a.version != b.version:
        add(
            "version_changed", "version", a.version, b.version, f"version {a.version} → {b.version}"
        )
    renamed = _renames(a, b)
    old = {c.name: c for c in a.columns}
    new = {c.name: c for c in b.columns}
    for name, c in new.items():
        if name not in old and name not in renamed.values():
            add("column_added", name, None, c.type, f"column {name} added ({_column_words(c)})")
    for name in old:
        if name not in new and name not in renamed:
            add("column_removed", name, old[name].type, None, f"column {name} removed")
    for before, after in renamed.items():
        add("column_renamed", before, before, after, f"column {before} renamed to {after}")
    for name, c in old.items():
        target = renamed.get(name, name)
        if target in new:
            _column_changes(add, c, new[target])
    _contract_changes(add, a, b)
    return ContractDiff(a.source, _side(a), _side(b), tuple(out), renamed)


def _column_words(c: ColumnSpec) -> str:
    flags = [c.type, "nullable" if c.nullable else "not null"]
    flags += [f for f in ("unique", "pii") if getattr(c, f)]
    return ", ".join(flags)


def _renames(a: Contract, b: Contract) -> dict[str, str]:
    """Old column -> new column: a column gone from ``a`` that an added column of ``b``
    takes as a header (an alias, or a ``normalize.rename`` source)."""
    kept = set(b.column_names)
    gone = [n for n in a.column_names if n not in kept]
    added = [c for c in b.columns if c.name not in a.column_names]
    out: dict[str, str] = {}
    for name in gone:
        for c in added:
            if c.name in out.values():
                continue
            if name in c.aliases or b.normalize.rename.get(name) == c.name:
                out[name] = c.name
                break
    return out


def _column_changes(add: Any, a: ColumnSpec, b: ColumnSpec) -> None:
    col = b.name
    for attr in _COLUMN_FLAGS:
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            kind = "type_changed" if attr == "type" else f"{attr}_changed"
            add(kind, col, x, y, f"column {col}: {attr} {_words(x)} → {_words(y)}")
    for attr in _COLUMN_DETAILS:
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            add(f"{attr}_changed", col, x, y, f"column {col}: {attr} {_words(x)} → {_words(y)}")
    for attr in ("trim", "lower", "upper", "map", "strip", "null_values"):
        x, y = getattr(a.normalize, attr), getattr(b.normalize, attr)
        if x != y:
            add(
                "column_normalize_changed",
                f"{col}.normalize.{attr}",
                x,
                y,
                f"column {col}: normalize.{attr} {_words(x)} → {_words(y)}",
            )
    # by rule id, read under the new name (a renamed column keeps its checks)
    checks_a = {_rule(col, c.kind, c.name): c.args for c in a.checks}
    checks_b = {c.rule_id: c.args for c in b.checks}
    _keyed(add, "check", f"column {col}: check", checks_a, checks_b)


def _rule(column: str, kind: str, name: str | None) -> str:
    return f"{column}.{kind}" + (f".{name}" if name else "")


def _keyed(add: Any, noun: str, lead: str, a: dict[str, Any], b: dict[str, Any]) -> None:
    """Added, removed and changed entries of two mappings keyed by rule id."""
    for key, args in b.items():
        if key not in a:
            add(f"{noun}_added", key, None, args, f"{lead} {key} added: {_words(args)}")
    for key, args in a.items():
        if key not in b:
            add(f"{noun}_removed", key, args, None, f"{lead} {key} removed")
        elif b[key] != args:
            add(
                f"{noun}_changed",
                key,
                args,
                b[key],
                f"{lead} {key} {_words(args)} → {_words(b[key])}",
            )


def _contract_changes(add: Any, a: Contract, b: Contract) -> None:
    for attr in ("rename", "null_values", "trim"):
        x, y = getattr(a.normalize, attr), getattr(b.normalize, attr)
        if x != y:
            add(
                "normalize_changed",
                f"normalize.{attr}",
                x,
                y,
                f"normalize.{attr} {_words(x)} → {_words(y)}",
            )
    for attr in ("on_row_failure", "on_existing_key", "max_quarantine_ratio"):
        x, y = getattr(a.policy, attr), getattr(b.policy, attr)
        if x != y:
            add("policy_changed", f"policy.{attr}", x, y, f"policy.{attr} {x} → {y}")
    if a.primary_key != b.primary_key:
        x, y = list(a.primary_key), list(b.primary_key)
        add("primary_key_changed", "primary_key", x, y, f"primary key {_words(x)} → {_words(y)}")
    if a.model != b.model:
        add("model_changed", "model", a.model, b.model, f"model {a.model} → {b.model}")
    _suite_changes(add, a, b)


def _suite_changes(add: Any, a: Contract, b: Contract) -> None:
    sa, sb = a.expectations, b.expectations
    if sa is None and sb is None:
        return
    if sa is None or sb is None:
        kind = "expectations_added" if sa is None else "expectations_removed"
        suite = sb if sa is None else sa
        assert suite is not None
        verb = "added" if sa is None else "removed"
        n = len(suite.expectations)
        add(
            kind,
            "expectations",
            None,
            suite.name,
            f"GX suite {suite.name} {verb} ({n} expectations)",
        )
        return
    for attr in ("on_batch_failure", "row_evaluation"):
        x, y = getattr(sa, attr), getattr(sb, attr)
        if x != y:
            add(
                "expectations_changed",
                f"expectations.{attr}",
                x,
                y,
                f"expectations.{attr} {x} → {y}",
            )
    ea = {e.rule_id: e.describe() for e in sa.expectations}
    eb = {e.rule_id: e.describe() for e in sb.expectations}
    _keyed(add, "expectation", "GX expectation", ea, eb)


def _words(value: Any) -> str:
    """A value as a sentence shows it (a list as ``[a, b]``, nothing as ``none``)."""
    if value is None or value == () or value == {}:
        return "none"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_words(v) if v != "" else '""' for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
