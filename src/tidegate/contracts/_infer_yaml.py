"""Write an inferred contract as YAML, with a ``# inferred: ...`` comment per column."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tidegate.contracts._infer import Inference
    from tidegate.contracts._infer_columns import ColumnGuess


SPEC_ORDER = ("type", "nullable", "unique", "formats", "true_values", "false_values", "normalize")


# What PyYAML writes as it is with allow_unicode (it escapes the other control
# characters itself): NEL, the bidi embeddings/overrides and isolates.
_RAW_IN_YAML = re.compile("[\x85\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


class _VisibleDumper(yaml.SafeDumper):
    """A value from the sample (a header, an ``isin`` member) holding a character a
    terminal acts on is written double-quoted, where YAML escapes it: the file reads
    the same as YAML and shows no bidi override when printed (``schema infer``)."""

    def analyze_scalar(self, scalar: str) -> Any:
        analysis = super().analyze_scalar(scalar)
        if _RAW_IN_YAML.search(scalar):
            analysis.allow_flow_plain = analysis.allow_block_plain = False
            analysis.allow_single_quoted = analysis.allow_block = False
        return analysis


def _dump(data: dict[str, Any], indent: int = 0, flow: bool | None = None) -> str:
    """Block style at the top; ``flow=None`` writes innermost lists and mappings inline.
    A bidi control is only ever inside a double-quoted scalar (:class:`_VisibleDumper`),
    where ``\\uXXXX`` is its escape."""
    text = yaml.dump(
        data,
        Dumper=_VisibleDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=flow,
        width=100,
    )
    text = _BIDI.sub(lambda m: f"\\u{ord(m.group()):04X}", text)
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
