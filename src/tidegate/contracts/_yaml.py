"""Contract YAML as tidegate reads it: YAML 1.2 booleans (only ``true``/``false``, so
``yes``/``no``/``on``/``off`` stay strings) and duplicate mapping keys refused; a
syntax error becomes a :class:`~tidegate.errors.ContractError` with line and column."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tidegate.errors import ContractError


class _ContractYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and refusal of duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                continue  # unhashable: let PyYAML report it
            if key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ContractYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ContractYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_yaml(text: str, file: str = "<memory>") -> Any:
    """Parse contract YAML; a syntax error becomes a ContractError with line and column."""
    try:
        return yaml.load(text, Loader=_ContractYamlLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "<yaml>"
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}: {problem}" if context else problem
        raise ContractError(file, where, detail, "well-formed YAML") from None
