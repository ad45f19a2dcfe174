"""Every exception tidegate raises on purpose is defined in tidegate.errors and drawn in
the tree of its docstring, where it hangs under its real base class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import tidegate
from tidegate import errors
from tidegate.errors import TidegateError

# Optional packages a module may need: the review web app is skipped only without them.
OPTIONAL = {"tidegate.review.web": ("fastapi", "starlette", "jinja2", "itsdangerous")}
# The review app's HTTP control flow (turned into redirects and status codes by its
# exception handlers), not errors: they are never raised to a caller of tidegate.
HTTP_CONTROL_FLOW = {"SignInRequired", "Forbidden", "CsrfFailed"}
TREE_LINE = re.compile(r"^(?P<prefix>(?:│   |    |├── |└── )*)(?P<name>[A-Z]\w+)(?:\s|$)")


def all_modules() -> list[ModuleType]:
    modules: list[ModuleType] = [tidegate]
    for info in pkgutil.walk_packages(tidegate.__path__, "tidegate.", onerror=_raise):
        try:
            modules.append(importlib.import_module(info.name))
        except ModuleNotFoundError as exc:
            optional = next((p for p in OPTIONAL if info.name.startswith(p)), None)
            if optional is None or exc.name not in OPTIONAL[optional]:
                raise
    return modules


def _raise(name: str) -> None:
    raise ImportError(f"cannot import {name}")


def subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | subclasses(sub)
    return found


def drawn_tree() -> dict[str, str | None]:
    """Each class drawn in the docstring of tidegate.errors -> the class it hangs under."""
    doc = errors.__doc__ or ""
    lines = [line[4:] for line in doc.splitlines() if line.startswith("    ")]
    parents: dict[str, str | None] = {}
    last_at_depth: dict[int, str] = {}
    for line in lines:
        match = TREE_LINE.match(line)
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match.group("prefix")) // 4  # "│   ", "    ", "├── " or "└── " per level
        name = match.group("name")
        parents[name] = last_at_depth[depth - 1] if depth else None
        last_at_depth[depth] = name
    return parents


@pytest.fixture(scope="module")
def modules() -> list[ModuleType]:
    return all_modules()


def test_every_tidegate_error_is_defined_in_errors_and_drawn_in_its_tree(
    modules: list[ModuleType],
) -> None:
    assert len(modules) > 100
    found = subclasses(TidegateError)
    elsewhere = sorted(
        f"{c.__module__}.{c.__name__}" for c in found if c.__module__ != errors.__name__
    )
    assert elsewhere == []
    tree = drawn_tree()
    actual = {c.__name__: c.__mro__[1].__name__ for c in found} | {"TidegateError": None}
    assert tree == actual


def test_no_other_public_exception_class_in_tidegate(modules: list[ModuleType]) -> None:
    others = {
        f"{module.__name__}.{name}"
        for module in modules
        if module is not errors
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
        and not name.startswith("_")
        and name not in HTTP_CONTROL_FLOW
    }
    assert others == set()


def test_retried_and_terminal_conflicts_say_which_they_are() -> None:
    assert issubclass(errors.TransientWriteConflictError, errors.TransientError)
    assert not issubclass(errors.ReviewConflictError, errors.TransientError)
    assert not hasattr(errors, "ConflictError") and not hasattr(errors, "WriteConflictError")
    gave_up = errors.HttpGaveUpError("gave up", url="https://h/x", status=503, attempts=3)
    assert isinstance(gave_up, errors.SourceUnavailableError) and gave_up.attempts == 3
