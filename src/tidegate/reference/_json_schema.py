"""The JSON Schema (draft 2020-12) of contract and pipeline files, generated from the model.

Editors that speak the YAML language server read it from the modeline
``# yaml-language-server: $schema=../jsonschema/contract.json``: they complete keys,
show each key's description and flag unknown keys and wrong types as you type.
"""

from __future__ import annotations

from typing import Any

from tidegate.reference._contract_model import CONTRACT
from tidegate.reference._keys import NO_DEFAULT, REQUIRED, Key
from tidegate.reference._pipeline_model import PIPELINE

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://github.com/tidegate/tidegate/jsonschema/"


def contract_json_schema() -> dict[str, Any]:
    """The JSON Schema of a contract file (``schemas/*.yaml``)."""
    return _document(CONTRACT, "contract.json", "tidegate contract")


def pipeline_json_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline file (``pipelines/*.yaml``)."""
    return _document(PIPELINE, "pipeline.json", "tidegate pipeline")


def _document(model: Key, file: str, title: str) -> dict[str, Any]:
    body = schema_of(model)
    body["title"] = title
    return {"$schema": DRAFT, "$id": BASE_ID + file, **body}


def schema_of(key: Key) -> dict[str, Any]:
    """The JSON Schema of one key's value, with its title, description and default."""
    schema = dict(key.schema)
    if key.keys:
        schema["type"] = "object"
        schema["properties"] = {k.name: schema_of(k) for k in key.keys}
        required = [k.name for k in key.keys if k.required]
        if required:
            schema["required"] = required
        if key.closed:
            schema["additionalProperties"] = False
        groups = [{"oneOf": [{"required": [name]} for name in g]} for g in key.exactly_one]
        if len(groups) == 1:
            schema.update(groups[0])
        elif groups:
            schema["allOf"] = groups
    if key.values is not None:
        schema["additionalProperties"] = schema_of(key.values)
    if key.item is not None:
        schema["items"] = schema_of(key.item)
    if key.variants:
        kinds = [v.key("kind").choices[0] for v in key.variants]
        schema["required"] = ["kind"]
        schema["properties"] = {
            "kind": {"title": "kind", "description": "The source kind.", "enum": kinds}
        }
        schema["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": schema_of(variant),
            }
            for kind, variant in zip(kinds, key.variants, strict=True)
        ]
    if key.also is not None:
        schema = {"anyOf": [schema, dict(key.also)]}
    described: dict[str, Any] = {"title": key.name, "description": key.description}
    if key.default is not REQUIRED and key.default is not NO_DEFAULT:
        described["default"] = key.default
    return {**described, **schema}


def json_schema_text(kind: str) -> str:
    """The JSON Schema of ``kind`` (``contract`` or ``pipeline``) as the text of its file:
    what ``tidegate schema json-schema`` prints, ``jsonschema/`` holds and ``tidegate
    init`` writes."""
    import json

    schema = contract_json_schema() if kind == "contract" else pipeline_json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
