"""Validation: cast to the contract's types and run its checks, yielding per-row verdicts."""

from tidegate.validate._cast import cast_frame
from tidegate.validate._verdicts import ValidatedBatch, validate

__all__ = ["ValidatedBatch", "cast_frame", "validate"]
