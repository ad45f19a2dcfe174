"""Small field readers shared by the contract loader: each refuses with a ContractError."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tidegate.errors import ContractError

IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
IDENTIFIER_TEXT = "an identifier matching [a-z_][a-z0-9_]* (lower case letters, digits, _)"


@dataclass(frozen=True)
class Reader:
    """Carries the file name so every refusal names it."""

    file: str

    def refuse(self, key: str, value: object, valid: str) -> ContractError:
        return ContractError(self.file, key, value, valid)

    def mapping(self, value: object, key: str, what: str = "a mapping") -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.refuse(key, value, what)
        for k in value:
            if not isinstance(k, str):
                raise self.refuse(f"{key}.{k}", k, "string keys (quote it)")
        return value

    def known_keys(self, data: Mapping[str, Any], valid: Iterable[str], key: str) -> None:
        valid = list(valid)
        for k in data:
            if k not in valid:
                close = difflib.get_close_matches(k, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = f"{key}.{k}" if key else k
                raise self.refuse(where, k, f"one of {', '.join(valid)}{hint}")

    def required(self, data: Mapping[str, Any], name: str, key: str, valid: str) -> Any:
        if name not in data or data[name] is None:
            where = f"{key}.{name}" if key else name
            raise self.refuse(where, data.get(name), f"a required key: {valid}")
        return data[name]

    def boolean(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(key, value, "true or false")
        return value

    def text(self, value: object, key: str, *, non_empty: bool = False) -> str:
        if not isinstance(value, str) or (non_empty and not value):
            what = "a non-empty string" if non_empty else "a string"
            raise self.refuse(key, value, f"{what} (quote values YAML reads as numbers or null)")
        return value

    def identifier(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
            raise self.refuse(key, value, IDENTIFIER_TEXT)
        return value

    def str_list(
        self, value: object, key: str, *, non_empty_items: bool = False
    ) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.refuse(key, value, "a list of strings")
        return tuple(
            self.text(item, f"{key}[{i}]", non_empty=non_empty_items)
            for i, item in enumerate(value)
        )

    def number(self, value: object, key: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(key, value, "a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.refuse(key, value, "a finite number")
        return value

    def choice(self, value: object, key: str, choices: Iterable[str]) -> str:
        choices = list(choices)
        if value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise self.refuse(key, value, f"one of {', '.join(choices)}{hint}")
        assert isinstance(value, str)
        return value
