"""The reference of contract and pipeline files: one model of every key, from which
the JSON Schema (``tidegate schema json-schema``) and ``docs/reference.md`` are generated.

Imports neither polars nor Prefect.
"""

from tidegate.reference._json_schema import (
    contract_json_schema,
    json_schema_text,
    pipeline_json_schema,
)
from tidegate.reference._markdown import reference_markdown

__all__ = ["contract_json_schema", "json_schema_text", "pipeline_json_schema", "reference_markdown"]
