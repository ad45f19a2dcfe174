"""Mask the values of ``pii: true`` columns wherever they are shown or kept in clear.

An email keeps its shape (``b***@e***.com``) so a reviewer can tell a malformed
address from a good one without reading it; anything else becomes ``••••``,
which hides the length too. ``None`` stays ``None``: a missing value tells nothing.

Used by the review app and the CLI (:mod:`tidegate.review._masking`) and by the
suite summaries kept in the audit (:mod:`tidegate.validate._gx_batch`). Imports nothing.
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
