"""Monitoring never stops a run: failures are logged, a transient one is raised again."""

from __future__ import annotations

import logging

import pytest

from tidegate.errors import TransientError
from tidegate.monitor import never_stops_run


def test_a_failure_is_logged_and_the_run_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tidegate.test.monitor")
    ran_after = False
    with caplog.at_level(logging.ERROR, logger=logger.name):
        with never_stops_run(logger, "monitoring %s failed", "batch-1"):
            raise ValueError("a bug in a check")
        ran_after = True
    assert ran_after
    (record,) = caplog.records
    assert record.getMessage() == "monitoring batch-1 failed"
    assert record.exc_info is not None and record.exc_info[0] is ValueError


def test_a_transient_failure_is_raised_for_the_caller_to_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tidegate.test.monitor")
    with (
        pytest.raises(TransientError),
        caplog.at_level(logging.ERROR, logger=logger.name),
        never_stops_run(logger, "monitoring %s failed", "batch-1"),
    ):
        raise TransientError("store locked")
    assert caplog.records == []
