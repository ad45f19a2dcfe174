"""The building block of the reference: one key of a YAML file, described once.

A :class:`Key` says what a key accepts (the JSON Schema of its value), what it
means (a one-line description), its default and its allowed values. A mapping
with fixed keys lists them in ``keys``; the JSON Schema and the Markdown page
are both generated from these, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of a key that must be given
NO_DEFAULT: Any = None  # optional, and absent means "not set"


@dataclass(frozen=True)
class Key:
    """One key: its name, the type shown to people, the JSON Schema of its value."""

    name: str
    type: str
    description: str
    schema: dict[str, Any] = field(default_factory=dict)
    default: Any = NO_DEFAULT
    choices: tuple[Any, ...] = ()
    keys: tuple[Key, ...] = ()  # fixed sub-keys: the value is (or may be) such a mapping
    closed: bool = True  # with ``keys``: unknown sub-keys are refused
    exactly_one: tuple[tuple[str, ...], ...] = ()  # groups of keys: exactly one of each given
    item: Key | None = None  # a list: each item is this
    values: Key | None = None  # a mapping of any name -> this
    variants: tuple[Key, ...] = ()  # one of these mappings, told apart by their ``kind``
    also: dict[str, Any] | None = None  # a shorthand the value may be instead

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def key(self, name: str) -> Key:
        for k in self.keys:
            if k.name == name:
                return k
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)


def string(name: str, description: str, default: Any = NO_DEFAULT, **schema: Any) -> Key:
    return Key(name, "string", description, {"type": "string", **schema}, default)


def boolean(name: str, description: str, default: Any = NO_DEFAULT) -> Key:
    return Key(name, "boolean", description, {"type": "boolean"}, default)


def integer(name: str, description: str, default: Any = NO_DEFAULT, **schema: Any) -> Key:
    return Key(name, "integer", description, {"type": "integer", **schema}, default)


def number(name: str, description: str, default: Any = NO_DEFAULT, **schema: Any) -> Key:
    return Key(name, "number", description, {"type": "number", **schema}, default)


def string_list(name: str, description: str, default: Any = NO_DEFAULT, **items: Any) -> Key:
    schema = {"type": "array", "items": {"type": "string", **items}}
    return Key(name, "list of strings", description, schema, default)


def choice(name: str, description: str, choices: tuple[str, ...], default: Any) -> Key:
    return Key(name, "string", description, {"enum": list(choices)}, default, choices)


def string_map(name: str, description: str, default: Any = NO_DEFAULT) -> Key:
    schema = {"type": "object", "additionalProperties": {"type": "string"}}
    return Key(name, "mapping of string -> string", description, schema, default)


def section(
    name: str,
    description: str,
    keys: tuple[Key, ...],
    default: Any = NO_DEFAULT,
    *,
    exactly_one: tuple[tuple[str, ...], ...] = (),
) -> Key:
    """A mapping with fixed keys; unknown keys are refused."""
    return Key(
        name,
        "mapping",
        description,
        {"type": "object"},
        default,
        keys=keys,
        exactly_one=exactly_one,
    )
