"""Option checking and ``${ENV}`` interpolation shared by the HTTP and landing sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidegate._env import expand_env
from tidegate.errors import SourceConfigError

# option name -> accepted types; bool is never accepted where a number is expected
_TYPE_NAMES = {
    str: "a string",
    bool: "true/false",
    int: "an integer",
    float: "a number",
    list: "a list",
    type(None): "null",
}


def check_options(
    name: str, kind: str, config: Mapping[str, Any], valid: Mapping[str, tuple[type, ...]]
) -> None:
    """Raise SourceConfigError for an unknown option or a value of the wrong type."""
    for key, value in config.items():
        if key not in valid:
            raise SourceConfigError(
                f"source {name!r}: unknown option {key!r}; valid options for kind {kind!r}: "
                f"{', '.join(valid)} (fix the pipeline file)"
            )
        types = valid[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            expected = " or ".join(_TYPE_NAMES.get(t, "a mapping") for t in types)
            shown = "a mapping" if isinstance(value, Mapping) else repr(value)
            raise SourceConfigError(
                f"source {name!r}: option {key!r} is {shown} ({type(value).__name__}); "
                f"expected {expected} (fix the pipeline file)"
            )


def positive(name: str, key: str, value: float, *, allow_zero: bool = False) -> float:
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise SourceConfigError(
            f"source {name!r}: option {key!r} is {value!r}; expected a number {bound} "
            "(fix the pipeline file)"
        )
    return value


def interpolate_env(name: str, key: str, text: str) -> tuple[str, list[str]]:
    """Replace each ``${VAR}`` with its environment value; also return the values used.

    A variable that is not set is a SourceConfigError naming the variable (never a value).
    """

    def missing(var: str) -> SourceConfigError:
        return SourceConfigError(
            f"source {name!r}: option {key!r} uses ${{{var}}} but the environment "
            f"variable {var} is not set; export {var}=... before running the pipeline"
        )

    return expand_env(text, missing)
