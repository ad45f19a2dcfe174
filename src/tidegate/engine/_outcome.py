"""What a run's batches add up to, for machines: an exit code and a message.

Prefect-free: the CLI, :class:`tidegate.Pipeline`, the flow and the tests share it.

- exit code 0 (:data:`EXIT_OK`): every batch loaded, or skipped as already committed
  (rows quarantined under the contract's threshold are part of a normal run);
- 3 (:data:`EXIT_DATA_HELD`): data held back: a batch held (its quarantine ratio
  above the contract's ``max_quarantine_ratio``, or the contract's policy), a file
  rejected as unreadable, a batch over the monitor's ``max_quarantine_ratio``, or a
  file that changed while it was read (nothing of it committed; the next run reads it);
- 2 (:data:`EXIT_FAILED`): configuration or machinery failed (a bad contract or
  pipeline, no Prefect API, a store or source that does not answer); nothing of
  the failing batch was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 2
EXIT_DATA_HELD = 3
QUARANTINE_ALERT = "quarantine_ratio"


@dataclass(frozen=True)
class RunVerdict:
    """The data outcome of one or more sources' runs."""

    held: list[str] = field(default_factory=list)  # "source: file" of each held batch
    rejected: list[str] = field(default_factory=list)
    over_threshold: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # changed while read: the next run

    @property
    def data_held(self) -> bool:
        return bool(self.held or self.rejected or self.over_threshold or self.deferred)

    @property
    def exit_code(self) -> int:
        return EXIT_DATA_HELD if self.data_held else EXIT_OK

    @property
    def message(self) -> str:
        parts = []
        for singular, plural, items in (
            ("batch held", "batches held", self.held),
            ("file rejected", "files rejected", self.rejected),
            (
                "batch over the quarantine threshold",
                "batches over the quarantine threshold",
                self.over_threshold,
            ),
        ):
            if items:
                shown = ", ".join(items[:3]) + (f" and {len(items) - 3} more" * (len(items) > 3))
                parts.append(f"{len(items)} {singular if len(items) == 1 else plural} ({shown})")
        review = "; review with `tidegate quarantine list`" if parts else ""
        if self.deferred:
            items = self.deferred
            shown = ", ".join(items[:3]) + (f" and {len(items) - 3} more" * (len(items) > 3))
            n = len(items)
            parts.append(
                f"{n} file{'' if n == 1 else 's'} changed while read ({shown}); "
                f"{'it' if n == 1 else 'they'} will be read on the next run"
            )
        if not parts:
            return "every batch loaded or already committed"
        return "; ".join(parts) + review


def verdict(outcomes: Iterable[Mapping[str, Any]]) -> RunVerdict:
    """The verdict of batch outcomes (``BatchOutcome.as_dict()`` each)."""
    result = RunVerdict()
    for o in outcomes:
        where = f"{o['source']}: {Path(str(o['location'])).name}"
        if o["event"] == "batch_held":
            result.held.append(where)  # held: over the monitor's threshold goes unsaid
        elif o["event"] == "file_rejected":
            result.rejected.append(where)
        elif o["event"] == "batch_deferred":
            result.deferred.append(where)
        elif QUARANTINE_ALERT in (o.get("alerts") or ()):
            result.over_threshold.append(where)
    return result
