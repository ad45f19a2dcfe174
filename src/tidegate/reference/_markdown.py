"""``docs/reference.md``: every key of contract and pipeline files, generated from the model.

``python -m tidegate.reference > docs/reference.md`` regenerates it; a test fails when
the committed page differs from :func:`reference_markdown`.
"""

from __future__ import annotations

import json
from typing import Any

from tidegate.contracts._columns import KINDS_BY_BASE_TYPE
from tidegate.reference._contract_model import CONTRACT, CONTRACT_EXAMPLE
from tidegate.reference._keys import NO_DEFAULT, REQUIRED, Key
from tidegate.reference._pipeline_model import PIPELINE, PIPELINE_EXAMPLES

REGENERATE = "python -m tidegate.reference > docs/reference.md"

_INTRO = f"""\
# Contract and pipeline reference

<!-- Generated from src/tidegate/reference/ by `{REGENERATE}`; do not edit. -->

Every key tidegate accepts in a contract file (`schemas/*.yaml`) and in a pipeline
file (`pipelines/*.yaml`): its type, default, allowed values and meaning. Any other
key is refused, naming the file, the key and what would be valid
(`tidegate schema check`).

The same model gives the JSON Schemas in `jsonschema/` (also printed by
`tidegate schema json-schema contract|pipeline`). An editor with the YAML language
server (VS Code's YAML extension, JetBrains IDEs, Neovim) completes keys, shows
these descriptions and flags mistakes as you type when a file starts with

```yaml
# yaml-language-server: $schema=../jsonschema/contract.json
```

(`pipeline.json` for pipeline files).
"""


_VERSIONS = """\
### Contract versions: history, diff, rollback

Every contract text that commits a batch is recorded in the store (`contract_versions`:
the text, the text of its GX suite, the content hash, when and by which batch first);
each batch's checkpoint and audit entry carry the hash it committed under. A batch
committed under a changed text with the same `version:` prints a warning, its audit
entry carries `contract_changed_without_bump`, and `tidegate doctor` warns.

"""
_VERSION_COMMANDS = (
    (
        "tidegate schema history SOURCE [--format table\\|json]",
        "the recorded versions: version, hash, first committed, first batch, batches; "
        "a version number recorded under two texts is marked",
    ),
    (
        "tidegate schema diff SOURCE V1 V2 [--format table\\|json]",
        "what changed, in words; V1/V2 each a version number, a hash prefix "
        "(6+ characters) or a contract file",
    ),
    (
        "tidegate schema rollback SOURCE [VERSION] --yes [--force]",
        "writes a recorded text (default: the version committed before the current "
        "file's) into the file the source's pipeline names in `contract:`, and its "
        "suite; audited as `contract_rolled_back`",
    ),
)


def reference_markdown() -> str:
    """The reference page, as committed in ``docs/reference.md``."""
    parts = [_INTRO, "## Contract files\n", _example(CONTRACT_EXAMPLE)]
    parts += _tables(CONTRACT, "")
    parts.append(_check_kinds_by_type())
    rows = "".join(f"| `{c}` | {what} |\n" for c, what in _VERSION_COMMANDS)
    parts.append(_VERSIONS + "| Command | What it does |\n|---|---|\n" + rows)
    parts.append("## Pipeline files\n")
    parts.append(_example(PIPELINE_EXAMPLES["file"]))
    parts += _tables(PIPELINE, "")
    for kind, text in PIPELINE_EXAMPLES.items():
        if kind != "file":
            parts.append(f"A `{kind}` source:\n\n" + _example(text))
    return "\n".join(parts).rstrip("\n") + "\n"


def _example(text: str) -> str:
    return f"```yaml\n{text}```\n"


def _path(parent: str, name: str) -> str:
    if parent.endswith(")") and " (" in parent:  # "source (kind: http)" -> "source.auth (...)"
        base, _, rest = parent.partition(" (")
        return f"{base}.{name} ({rest}"
    return f"{parent}.{name}" if parent else name


def _tables(key: Key, path: str) -> list[str]:
    """A table of ``key``'s sub-keys, then one per nested mapping, depth first."""
    title = path or f"Top level of a {key.name} file"
    out: list[str] = []
    if key.keys:
        out.append(_table(title, key))
        for sub in key.keys:
            out += _tables(sub, _path(path, sub.name))
    if key.values is not None:
        out += _tables(key.values, key.values.name)
    if key.item is not None:
        out += _tables(key.item, f"{path}[]")
    for variant in key.variants:
        out += _tables(variant, variant.name)
    return out


def _table(title: str, key: Key) -> str:
    heading = title if title.startswith("Top level") else f"`{title}`"
    lines = [f"### {heading}\n", key.description + _exactly_one(key) + "\n"]
    lines.append("| key | type | default | allowed | description |")
    lines.append("|---|---|---|---|---|")
    for sub in key.keys:
        row = (f"`{sub.name}`", sub.type, _default(sub), _allowed(sub), sub.description)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def _exactly_one(key: Key) -> str:
    return "".join(
        " Give exactly one of " + ", ".join(f"`{n}`" for n in group) + "."
        for group in key.exactly_one
    )


def _default(key: Key) -> str:
    if key.default is REQUIRED:
        return "**required**"
    if key.default is NO_DEFAULT:
        return ""
    return f"`{_show(key.default)}`"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value)


def _allowed(key: Key) -> str:
    if key.choices:
        return ", ".join(f"`{c}`" for c in key.choices)
    if key.variants:
        return ", ".join(f"`kind: {v.key('kind').choices[0]}`" for v in key.variants)
    s = key.schema
    bits = []
    if "pattern" in s:
        bits.append(f"matches `{s['pattern']}`")
    for word, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<=")):
        if word in s:
            bits.append(f"{sign} {s[word]}")
    if "not" in s and "enum" in s["not"]:
        bits.append("not " + ", ".join(f"`{v}`" for v in s["not"]["enum"]))
    return "; ".join(bits)


def _check_kinds_by_type() -> str:
    lines = ["### Check kinds by column type\n", "| type | check kinds |", "|---|---|"]
    for base, kinds in KINDS_BY_BASE_TYPE.items():
        shown = "decimal(p,s)" if base == "decimal" else base
        lines.append(f"| {shown} | " + ", ".join(f"`{k}`" for k in kinds) + " |")
    return "\n".join(lines) + "\n"
