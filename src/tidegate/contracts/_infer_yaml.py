"""Write an inferred contract as YAML, with a ``# inferred: ...`` comment per column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tidegate.contracts._infer import Inference
    from tidegate.contracts._infer_columns import ColumnGuess


SPEC_ORDER = ("type", "nullable", "unique", "formats", "true_values", "false_values", "normalize")


def _dump(data: dict[str, Any], indent: int = 0, flow: bool | None = None) -> str:
    """Block style at the top; ``flow=None`` writes innermost lists and mappings inline."""
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=flow, width=100
    )
    pad = " " * indent
    return "".join(pad + line + "\n" for line in text.splitlines())


def _column_yaml(c: ColumnGuess) -> str:
    spec: dict[str, Any] = {"type": c.type}
    spec.update({k: c.spec[k] for k in SPEC_ORDER if k in c.spec})
    if c.checks:
        spec["checks"] = c.checks
    comment = f"  # inferred: {c.why}"
    if c.tokens:
        comment += f"; nulls seen as {', '.join(repr(t) for t in c.tokens)}"
    return comment.replace("\n", " ") + "\n" + _dump({c.name: spec}, indent=2)


def render_contract(inf: Inference, *, rename: dict[str, str], ratio: float, origin: str) -> str:
    from tidegate._safe_text import visible

    # the sample's file name goes into comments, which YAML does not escape: a control
    # character in it is written as a visible escape (the YAML goes to a terminal too)
    where = f" of {visible(origin)}" if origin else ""
    lines = [
        f"# Starter contract for {inf.source!r}, inferred by tidegate from {inf.rows} rows{where}.",
        "# Review every guess (types, nullable, checks, the primary key) before use.",
    ]
    lines += [f"# {note}" for note in inf.skipped_notes]
    head: dict[str, Any] = {
        "source": inf.source,
        "version": 1,
        "description": f"Inferred from {inf.rows} rows{where}; review every guess before use.",
    }
    text = "\n".join(lines) + "\n" + _dump(head, flow=False)
    if inf.primary_key:
        text += f"# {inf.primary_key_why}\n" + _dump({"primary_key": list(inf.primary_key)})
    normalize: dict[str, Any] = {}
    if rename:
        normalize["rename"] = rename
    normalize["null_values"] = list(inf.null_values)
    normalize["trim"] = True
    text += _dump({"normalize": normalize})
    text += "columns:\n" + "".join(_column_yaml(c) for c in inf.columns)
    policy = {
        "on_row_failure": "quarantine",
        "on_existing_key": "update",
        "max_quarantine_ratio": ratio,
    }
    text += f"# a batch with more than {ratio:.0%} of its rows quarantined is held\n"
    return text + _dump({"policy": policy}, flow=False)
