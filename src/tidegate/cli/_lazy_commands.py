"""The root group's commands, imported only when asked for.

Typer builds the whole command tree before it runs one command: every command module,
its imports and every parameter of every command. The root group's ``commands`` is a
:class:`LazyCommands` instead: it knows each name and where the command lives
(``"module:attribute"``, a function or a ``typer.Typer`` group), and imports and builds
one when click looks it up. ``tidegate audit list`` imports the audit commands only;
``--help`` lists every command, so it builds them all (still without their heavy
dependencies, which the commands import inside their functions).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main


def _no_callback() -> None:
    """A callback so that the holder below is always a group."""


def build_command(name: str, target: Any, *, rich_markup_mode: Any) -> Any:
    """The click command typer makes of ``target`` (a function or a ``typer.Typer``)
    under ``name``, as ``app.command(name)`` or ``app.add_typer(target, name=name)`` on
    the root app would make it."""
    holder = typer.Typer(
        rich_markup_mode=rich_markup_mode, pretty_exceptions_enable=False, add_completion=False
    )
    holder.callback()(_no_callback)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


class LazyCommands(MutableMapping[str, Any]):
    """Command name -> click command, imported and built on first lookup.

    ``specs`` maps each name to ``"module:attribute"``, in the order ``--help`` lists
    them. A command added by click's ``add_command`` is kept as given.
    """

    def __init__(self, specs: dict[str, str], *, rich_markup_mode: Any) -> None:
        self._specs = dict(specs)
        self._built: dict[str, Any] = {}
        self._rich_markup_mode = rich_markup_mode

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            spec = self._specs[name]  # KeyError: no such command (click says so)
            module, _, attribute = spec.partition(":")
            target = getattr(importlib.import_module(module), attribute)
            self._built[name] = build_command(name, target, rich_markup_mode=self._rich_markup_mode)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._specs.setdefault(name, "")
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._specs[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs
