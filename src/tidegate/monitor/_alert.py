"""An alert: one threshold breached by one batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("quarantine_ratio", "row_count", "schema_drift", "value_drift")


@dataclass(frozen=True)
class Alert:
    """What was measured on which batch, against which threshold.

    ``kind`` is one of :data:`KINDS`; ``detail`` says more (for drift: ``column``
    and ``change`` or ``check``). The Prefect event is ``tidegate.alert.<kind>``.
    """

    kind: str
    source: str
    batch_id: str
    measured: Any
    threshold: Any
    message: str
    location: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def event_name(self) -> str:
        return f"tidegate.alert.{self.kind}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "batch_id": self.batch_id,
            "location": self.location,
            "measured": self.measured,
            "threshold": self.threshold,
            "message": self.message,
            **self.detail,
        }


@dataclass(frozen=True)
class BatchRef:
    """The batch being checked: what every alert it raises names."""

    source: str
    batch_id: str
    location: str | None = None

    def alert(self, kind: str, measured: Any, threshold: Any, message: str, **detail: Any) -> Alert:
        return Alert(
            kind=kind,
            source=self.source,
            batch_id=self.batch_id,
            measured=measured,
            threshold=threshold,
            message=f"{self.source}: {message}",
            location=self.location,
            detail=detail,
        )
