"""Small field readers shared by the contract loader: each refuses with a ContractError."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tidegate.errors import ContractError

IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
IDENTIFIER_TEXT = "an identifier matching [a-z_][a-z0-9_]* (lower case letters, digits, _)"
T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True)
class Reader:
    """Carries the file name so every refusal names it, and collects the refusals of
    parts read independently of each other (:meth:`attempt`), so that one file's
    problems are all reported at once (:meth:`raise_problems`)."""

    file: str
    problems: list[ContractError] = field(default_factory=list, compare=False, repr=False)

    def refuse(self, key: str, value: object, valid: str) -> ContractError:
        return ContractError(self.file, key, value, valid)

    def note(self, error: ContractError) -> None:
        """Record a refusal (once) and go on reading."""
        if not any(p is error for p in self.problems):
            self.problems.append(error)

    def attempt(self, read: Callable[..., T], *args: Any, default: D) -> T | D:
        """``read(*args)``; a refusal is recorded and ``default`` returned instead."""
        try:
            return read(*args)
        except ContractError as exc:
            self.note(exc)
            return default

    def raise_problems(self) -> None:
        """Raise one ContractError for every refusal recorded, if there is any."""
        if self.problems:
            raise ContractError.of_problems(self.problems)

    def mapping(self, value: object, key: str, what: str = "a mapping") -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.refuse(key, value, what)
        for k in value:
            if not isinstance(k, str):
                raise self.refuse(f"{key}.{k}", k, "string keys (quote it)")
        return value

    def known_keys(
        self, data: Mapping[str, Any], valid: Iterable[str], key: str, *, keep_going: bool = False
    ) -> None:
        """Refuse every unknown key of ``data``: each is recorded; then, unless
        ``keep_going`` (the unknown keys are simply not read), the first is raised."""
        valid = list(valid)
        unknown: list[ContractError] = []
        for k in data:
            if k not in valid:
                close = difflib.get_close_matches(k, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = f"{key}.{k}" if key else k
                unknown.append(self.refuse(where, k, f"one of {', '.join(valid)}{hint}"))
        for error in unknown:
            self.note(error)
        if unknown and not keep_going:
            raise unknown[0]

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
