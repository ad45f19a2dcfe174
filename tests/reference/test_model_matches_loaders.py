"""The reference model and the loaders accept exactly the same keys, kinds, choices
and defaults: a key added to a loader without the model (or the other way) fails here."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from tidegate.contracts import _columns, _load, _model, _types
from tidegate.monitor import _config as monitor_config
from tidegate.pipelines import _schedule, _spec
from tidegate.reference import _contract_model as cm
from tidegate.reference import _pipeline_model as pm
from tidegate.reference._keys import Key
from tidegate.sources import _config as source_config
from tidegate.sources import _files, _http_config, _http_pages, _landing, _sql


def defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def model_defaults(key: Key, names: list[str]) -> dict[str, Any]:
    return {n: key.key(n).default for n in names}


def test_contract_keys_are_the_loaders_keys() -> None:
    column = cm.COLUMN
    assert cm.CONTRACT.names == _load.TOP_KEYS
    assert cm.CONTRACT.key("normalize").names == _load.NORMALIZE_KEYS
    assert cm.CONTRACT.key("policy").names == _load.POLICY_KEYS
    assert column.names == _columns.COLUMN_KEYS
    assert column.key("normalize").names == _columns.COLUMN_NORMALIZE_KEYS
    assert tuple(k.name for k in cm.CHECKS) == _model.CHECK_KINDS
    assert cm.CHECK.names == (*_model.CHECK_KINDS, "name")
    assert cm.SIMPLE_TYPES == _model.SIMPLE_TYPES and cm.TYPE_ALIASES == _types.TYPE_ALIASES
    assert set(cm.RESERVED_SOURCES) == _model.RESERVED_SOURCES
    assert cm.CONTRACT.key("model").schema["pattern"] == _load.MODEL_RE.pattern
    hints = typing.get_type_hints(_model.Policy)
    for choice in ("on_row_failure", "on_existing_key"):
        assert cm.CONTRACT.key("policy").key(choice).choices == typing.get_args(hints[choice])


def test_contract_defaults_are_the_loaders_defaults() -> None:
    policy = defaults(_model.Policy)
    assert model_defaults(cm.CONTRACT.key("policy"), list(policy)) == policy
    normalize = defaults(_model.ContractNormalize)
    shown = model_defaults(cm.CONTRACT.key("normalize"), list(normalize))
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in shown.items()} == normalize
    column = defaults(_model.ColumnSpec)
    for name in ("nullable", "unique", "pii", "description", "aliases", "true_values"):
        value = cm.COLUMN.key(name).default
        assert (tuple(value) if isinstance(value, list) else value) == column[name], name
    assert tuple(cm.COLUMN.key("formats").default) == _model.DEFAULT_DATE_FORMATS
    per_column = defaults(_model.ColumnNormalize)
    for name, value in per_column.items():
        shown_value = cm.COLUMN_NORMALIZE.key(name).default
        assert (tuple(shown_value) if isinstance(shown_value, list) else shown_value) == value


def json_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a value of ``schema`` may have (integer folded into number)."""
    found: set[str] = set()
    declared = schema.get("type")
    if isinstance(declared, str):
        found.add(declared)
    elif isinstance(declared, list):
        found.update(declared)
    if "const" in schema or "enum" in schema:
        found.add("string")
    for alternative in schema.get("anyOf", []):
        found |= json_types(alternative)
    if "number" in found:
        found.discard("integer")
    return found


PY_TO_JSON = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    Mapping: "object",
    list: "array",
    type(None): "null",
}


def loader_types(types: type | tuple[type, ...]) -> set[str]:
    found = {PY_TO_JSON[t] for t in (types if isinstance(types, tuple) else (types,))}
    if "number" in found:
        found.discard("integer")
    return found


def test_every_source_kind_has_the_loaders_options_with_their_types() -> None:
    loaders: dict[str, Mapping[str, Any]] = {
        "file": source_config._FILE_OPTIONS,
        "landing": _landing.LANDING_OPTIONS,
        "sql": _sql._SQL_OPTIONS,
        "http": _http_config.HTTP_OPTIONS,
    }
    kinds = {v.key("kind").choices[0]: v for v in pm.SOURCE_KINDS}
    assert sorted(kinds) == sorted(source_config._KINDS)
    for kind, options in loaders.items():
        model = kinds[kind]
        assert model.names == tuple(options), kind
        for name, types in options.items():
            assert json_types(model.key(name).schema) == loader_types(types), (kind, name)
    auth = kinds["http"].key("auth")
    assert auth.names == tuple(_http_config.AUTH_OPTIONS)
    assert kinds["file"].key("format").choices == _files.FORMATS
    assert kinds["http"].key("pagination").choices == _http_pages.PAGINATIONS


def test_pipeline_keys_and_defaults_are_the_loaders() -> None:
    p = pm.PIPELINE
    assert p.names == _spec.PIPELINE_KEYS
    assert p.key("schedule").names == _schedule.SCHEDULE_KEYS
    assert p.key("concurrency").names == _schedule.CONCURRENCY_KEYS
    assert p.key("concurrency").key("on_busy").choices == _schedule.ON_BUSY
    assert model_defaults(p.key("concurrency"), ["limit", "on_busy"]) == defaults(
        _schedule.ConcurrencyConfig
    )
    assert p.key("retries").schema["maximum"] == _schedule.MAX_RETRIES
    assert p.key("parallel").names == _spec.PARALLEL_KEYS
    assert p.key("parallel").key("runner").choices == _spec.RUNNERS
    assert model_defaults(p.key("parallel"), ["runner", "address", "workers"]) == defaults(
        _spec.ParallelConfig
    )
    monitor = p.key("monitor")
    assert monitor.names == monitor_config.MONITOR_KEYS
    assert monitor.key("row_count").names == monitor_config.ROW_COUNT_KEYS
    assert monitor.key("value_drift").names == monitor_config.VALUE_DRIFT_KEYS
    assert monitor.key("webhook").names == monitor_config.WEBHOOK_KEYS
    webhook = defaults(monitor_config.WebhookConfig)
    assert model_defaults(monitor.key("webhook"), list(webhook)) == webhook
    assert monitor.key("recent_batches").default == monitor_config.MonitorConfig().recent_batches
