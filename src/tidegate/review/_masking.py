"""Mask the values of ``pii: true`` columns until a reviewer reveals them (web and CLI).

An email keeps its shape (``b***@e***.com``) so a reviewer can tell a malformed
address from a good one without reading it; anything else becomes ``••••``,
which hides the length too. ``None`` stays ``None``: a missing value tells nothing.
"""

from __future__ import annotations

from typing import Any

MASK = "••••"


def mask_value(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    if text.count("@") == 1:
        local, domain = text.split("@")
        host, dot, tld = domain.rpartition(".")
        if not dot:
            host, tld = domain, ""
        masked_domain = (f"{host[:1]}***" if host else "") + (f".{tld}" if dot else "")
        return f"{local[:1]}***@{masked_domain}"
    return MASK
