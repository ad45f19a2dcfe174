"""Lazy package namespaces: a package ``__init__`` names what it exports and the
module each name lives in, and a name is imported on first use only.

Importing one light part of a package (``tidegate.store._audit_reads`` for ``audit
verify``) runs the package's ``__init__`` first; a lazy ``__init__`` keeps that from
importing the heavy parts (polars through the batch writer) as well::

    __getattr__, __dir__ = lazy_exports(__name__, {"commit_batch": "._batches", ...})

Type checkers see the names through a ``TYPE_CHECKING`` import block beside it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for ``names`` (name -> module,
    absolute or relative to ``package``); a name once resolved is kept in the package."""

    def __getattr__(name: str) -> Any:
        if name in names:
            value = getattr(import_module(names[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
