"""``tidegate doctor``: grade a project against a production-readiness checklist.

Every pipeline has a contract that checks out; the store is reachable and its
audit chain intact; thresholds are set for every source; the last run of each
source succeeded; schedules are deployed; PII columns are marked. Each failing
item says what to do. Nothing here imports Prefect.
"""

from tidegate.doctor._doctor import run_doctor
from tidegate.doctor._model import CheckResult, DoctorReport, Status

__all__ = ["CheckResult", "DoctorReport", "Status", "run_doctor"]
