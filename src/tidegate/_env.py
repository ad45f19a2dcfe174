"""``${NAME}`` references in configuration values, filled from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, missing: Callable[[str], Exception]) -> tuple[str, list[str]]:
    """``text`` with each ``${NAME}`` replaced by its environment value, and the values
    used (to hide them in messages). An unset NAME raises ``missing(NAME)``."""
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name)
        if value is None:
            raise missing(name)
        used.append(value)
        return value

    return ENV_REF.sub(replace, text), used
