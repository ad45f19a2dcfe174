"""The web app's PII mask: the same as the CLI's (:mod:`tidegate.review._masking`)."""

from tidegate.review._masking import MASK, mask_value

__all__ = ["MASK", "mask_value"]
