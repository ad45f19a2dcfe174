"""Mask the values of ``pii: true`` columns until a reviewer reveals them (web and CLI).

The mask itself lives in :mod:`tidegate._masking`, shared with the suite summaries the
audit keeps.
"""

from __future__ import annotations

from tidegate._masking import MASK, mask_value

__all__ = ["MASK", "mask_value"]
