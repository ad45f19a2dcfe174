"""Validation engines, registered by kind.

The contract says what to check; an engine decides how (the way pandera registers a
backend per schema and frame type). Each engine turns the typed frame into long-form
failures: ``_row`` (UInt32, position in the typed frame), ``rule``, ``column``,
``value`` (String), ``message``. :func:`tidegate.validate.validate` runs every engine
that applies to the contract and merges their failures.

Built-in engines: ``"pandera"`` (the contract's columns and checks, always) and
``"great_expectations"`` (a contract's GX suite, when it has row expectations). They
are registered on first use, so importing this module imports neither pandera nor GX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

    from tidegate.contracts._model import Contract


class ValidationEngine(Protocol):
    """One way of judging rows: ``kind`` names it in the registry."""

    kind: str

    def applies_to(self, contract: Contract) -> bool:
        """True when this engine has something to check in ``contract``."""
        ...

    def row_failures(self, typed: pl.DataFrame, contract: Contract) -> pl.DataFrame:
        """Every failure of every row of ``typed``, in tidegate's long form."""
        ...


_ENGINES: dict[str, ValidationEngine] = {}
_DEFAULTS_REGISTERED = False


def register_engine(engine: ValidationEngine) -> None:
    """Register ``engine`` under its ``kind`` (replacing an engine of the same kind)."""
    _register_default_engines()
    _ENGINES[engine.kind] = engine


def registered_engines() -> dict[str, ValidationEngine]:
    """The registry, kind -> engine, in registration order."""
    _register_default_engines()
    return dict(_ENGINES)


GX_ENGINE = "great_expectations"


def engines_for(contract: Contract) -> list[ValidationEngine]:
    """The registered engines that apply to ``contract``, in registration order.

    A contract whose GX suite has row expectations needs the ``great_expectations``
    engine: if it has been unregistered they would silently judge nothing, so it is
    refused. (Batch expectations are judged after routing, by
    :func:`tidegate.validate.judge_batch`.)"""
    engines = registered_engines()
    suite = contract.expectations
    if suite is not None and suite.row_expectations and GX_ENGINE not in engines:
        from tidegate.errors import ConfigError

        raise ConfigError(
            f"contract {contract.path} names the Great Expectations suite "
            f"{suite.path}, but no {GX_ENGINE!r} validation engine is "
            "registered to run it: register one with tidegate.validate.register_engine, "
            "or remove `expectations:` from the contract"
        )
    return [e for e in engines.values() if e.applies_to(contract)]


def _register_default_engines() -> None:
    """pandera's ``register_default_backends``: the built-ins, once, on first use."""
    global _DEFAULTS_REGISTERED
    if _DEFAULTS_REGISTERED:
        return
    _DEFAULTS_REGISTERED = True
    from tidegate.validate._gx_rows import GxRowEngine
    from tidegate.validate._pandera_engine import PanderaEngine

    _ENGINES.setdefault(PanderaEngine.kind, PanderaEngine())
    _ENGINES.setdefault(GxRowEngine.kind, GxRowEngine())
