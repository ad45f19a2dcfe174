"""Monitoring never stops a run: the one place that says what that means.

A batch is committed before it is monitored, so a failure while profiling or checking it
must not fail the run (or the flow) that committed it: it is logged and the run goes on.
A :class:`~tidegate.errors.TransientError` (a store locked by another writer) is the
exception: it is raised again, so that the caller retries as it retries the other steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tidegate.errors import TransientError


@contextmanager
def never_stops_run(
    logger: logging.Logger | logging.LoggerAdapter[Any], what: str, *args: object
) -> Iterator[None]:
    """Run the block; log any failure but a transient one (``what % args``) and go on."""
    try:
        yield
    except TransientError:
        raise
    except Exception:
        logger.exception(what, *args)
